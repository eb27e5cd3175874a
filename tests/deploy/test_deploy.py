"""The deployment files, checked without a Docker daemon.

- `langgraph dockerfile` (the LangGraph CLI, a dev dependency) generates the LangGraph Server's
  Dockerfile from our `langgraph.json`, and the committed `deploy/langgraph-api.Dockerfile` is
  that output.
- `docker-compose.yml` parses, names exactly the services the README's "Running on a server
  (Docker)" section lists, gives every long-running service a healthcheck, and carries no
  secret: only `env_file: .env` and `${VAR}` references.
- The commands the images and services run are registered `trader` commands whose options parse.
  A command that is not registered yet (`serve`, `schedule` are built on other branches) skips
  with a reason naming it; the check runs as soon as the command is merged.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.core
import typer.main
import yaml
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from trader.cli.main import app as trader_app
from trader.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
APP_DOCKERFILE = REPO_ROOT / "Dockerfile"
LANGGRAPH_DOCKERFILE = REPO_ROOT / "deploy" / "langgraph-api.Dockerfile"
README_SECTION = "## Running on a server (Docker)"
GRAPH_ID = "trading_session"

# Names whose values are secrets even when they are not app settings.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|LICENSE_KEY|ACCOUNT_NO|CONFIRM")
PURE_REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(?::?[-?][^}]*)?\}$")
REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}")
DEPS_DIR = re.compile(r"/deps/(?!\*)[A-Za-z0-9._-]+")


# --- helpers ----------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def secret_settings() -> set[str]:
    """Environment names of the settings held as `SecretStr`."""
    return {
        name.upper()
        for name, field in Settings.model_fields.items()
        if "SecretStr" in repr(field.annotation) or field.annotation is SecretStr
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the `- KEY=value` form
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: str(value) for key, value in env.items()}


def inline_secrets(services_: dict[str, dict[str, Any]]) -> list[str]:
    """Every secret a compose file writes out instead of referencing (`${VAR}`)."""
    secrets = secret_settings()
    found = []
    for name, service in services_.items():
        for key, value in environment(service).items():
            if (key in secrets or SECRET_NAME.search(key)) and not PURE_REFERENCE.match(value):
                found.append(f"{name}: {key}")
            if "://" in value:
                url = make_url(REFERENCE.sub("REF", value))
                if url.password not in (None, "REF"):
                    found.append(f"{name}: {key} has a password in its URL")
        build = service.get("build")
        args = build.get("args", {}) if isinstance(build, dict) else {}
        for key in args:
            if key in secrets or SECRET_NAME.search(key):
                found.append(f"{name}: build arg {key} (a secret would stay in the image)")
    return found


def readme_section() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert README_SECTION in text, f"README has no {README_SECTION!r} section"
    body = text.split(README_SECTION, 1)[1]
    return body.split("\n## ", 1)[0]


def readme_services() -> set[str]:
    """Services named in the first column of the section's table (`| `name` | ...`)."""
    return set(re.findall(r"^\| `([a-z][a-z0-9-]*)` \|", readme_section(), flags=re.MULTILINE))


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    pairs = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def exec_form(argument: str) -> list[str]:
    parsed = json.loads(argument) if argument.startswith("[") else shlex.split(argument)
    assert isinstance(parsed, list)
    return [str(part) for part in parsed]


def final_stage(path: Path) -> list[tuple[str, str]]:
    instructions = dockerfile_instructions(path)
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def image_command() -> list[str]:
    """ENTRYPOINT + CMD of the app image's final stage."""
    stage = final_stage(APP_DOCKERFILE)
    entrypoint = [exec_form(arg) for word, arg in stage if word == "ENTRYPOINT"]
    cmd = [exec_form(arg) for word, arg in stage if word == "CMD"]
    return (entrypoint[-1] if entrypoint else []) + (cmd[-1] if cmd else [])


def check_trader_command(argv: list[str], app: typer.Typer = trader_app) -> None:
    """Parse `trader <argv>` against the registered commands (nothing runs).

    Skips, naming the command, when it is not registered yet.
    """
    command = typer.main.get_command(app)
    path = ["trader"]
    rest = list(argv)
    while isinstance(command, typer.core.TyperGroup) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        sub = command.commands.get(name)
        if sub is None:
            known = ", ".join(sorted(command.commands))
            pytest.skip(
                f"`{' '.join([*path, name])}` is not registered yet (commands: {known}); "
                "this check runs once it is merged"
            )
        command, path = sub, [*path, name]
    assert not isinstance(command, typer.core.TyperGroup), f"`{' '.join(path)}` needs a command"
    try:
        command.make_context(" ".join(path), rest)
    except typer.TyperException as error:  # typer's click: UsageError, NoSuchOption, ...
        pytest.fail(f"`{' '.join(path)} {' '.join(rest)}` does not parse: {error}")


def trader_argv(service: dict[str, Any]) -> list[str]:
    """The `trader` arguments a service built from our Dockerfile runs."""
    command = service["command"]
    return exec_form(command) if isinstance(command, str) else [str(part) for part in command]


def our_image_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in services().items()
        if isinstance(service.get("build"), dict)
        and service["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    }


def langgraph_dockerfile(out: Path) -> str:
    cli = Path(sys.executable).parent / "langgraph"
    if not cli.exists():
        pytest.skip("the LangGraph CLI (dev dependency langgraph-cli) is not installed")
    env = {**os.environ, "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    result = subprocess.run(
        [str(cli), "dockerfile", "-c", str(REPO_ROOT / "langgraph.json"), str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out.read_text(encoding="utf-8")


# --- the LangGraph Server's image -------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> str:
    return langgraph_dockerfile(tmp_path_factory.mktemp("langgraph") / "Dockerfile")


def test_langgraph_dockerfile_installs_our_package_and_serves_our_graph(generated: str) -> None:
    assert generated.startswith("FROM langchain/langgraph-api:3.11")
    added = re.search(r"^ADD \. (/deps/[A-Za-z0-9._-]+)$", generated, flags=re.MULTILINE)
    assert added, "the repository is not added to the image"
    package_dir = added.group(1)
    assert "uv pip install --system" in generated and "-e .);" in generated

    env = dict(re.findall(r"^ENV (\w+)='(.*)'$", generated, flags=re.MULTILINE))
    assert json.loads(env["LANGSERVE_GRAPHS"]) == {
        GRAPH_ID: f"{package_dir}/trader/studio.py:graph"
    }
    assert json.loads(env["LANGGRAPH_CHECKPOINTER"])["path"] == (
        f"{package_dir}/trader/studio.py:checkpointer"
    )
    auth = json.loads(env["LANGGRAPH_AUTH"])
    assert auth["path"] == f"{package_dir}/trader/studio_auth.py:auth"
    # `env` in langgraph.json names a file: nothing of it is baked into the image.
    assert set(env) == {"LANGSERVE_GRAPHS", "LANGGRAPH_CHECKPOINTER", "LANGGRAPH_AUTH"}
    for name in secret_settings():
        assert name not in generated


def test_committed_langgraph_dockerfile_is_what_the_cli_generates(generated: str) -> None:
    """The folder name of the checkout (`/deps/<folder>`) is the only difference allowed."""
    committed = LANGGRAPH_DOCKERFILE.read_text(encoding="utf-8")
    assert DEPS_DIR.sub("/deps/APP", committed) == DEPS_DIR.sub("/deps/APP", generated), (
        "deploy/langgraph-api.Dockerfile is stale; regenerate it with "
        "`uv run langgraph dockerfile -c langgraph.json deploy/langgraph-api.Dockerfile`"
    )


# --- docker-compose.yml -----------------------------------------------------------------------


def test_compose_names_every_service_the_readme_lists() -> None:
    listed = readme_services()
    assert {"app", "scheduler", "postgres", "langgraph-api", "redis"} <= listed
    assert set(services()) == listed


def test_the_app_services_run_our_image_and_the_server_runs_the_generated_one() -> None:
    ours = our_image_services()
    assert {"app", "scheduler", "migrate"} <= set(ours)
    server = services()["langgraph-api"]
    assert server["build"] == {"context": ".", "dockerfile": "deploy/langgraph-api.Dockerfile"}
    assert (REPO_ROOT / server["build"]["dockerfile"]).is_file()


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        if service.get("restart") == "no":  # one-shot: the others wait for it to complete
            dependents = [
                other for other in services().values() if name in other.get("depends_on", {})
            ]
            assert dependents, f"nobody waits for the one-shot {name}"
            for other in dependents:
                assert other["depends_on"][name] == {"condition": "service_completed_successfully"}
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no healthcheck"
        assert check.get("test"), f"{name}'s healthcheck tests nothing"


def test_services_wait_for_healthy_dependencies() -> None:
    for name, service in services().items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services(), f"{name} depends on an unknown {dependency}"
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}


def test_the_scheduler_does_not_inherit_the_http_healthcheck() -> None:
    """The image's HEALTHCHECK probes port 8000, where only `trader serve` listens."""
    test = services()["scheduler"]["healthcheck"]["test"]
    assert "8000" not in " ".join(test)


def test_no_secret_is_written_in_the_compose_file() -> None:
    assert inline_secrets(services()) == []
    for name, service in services().items():
        if name in our_image_services() or name == "langgraph-api":
            assert service["env_file"] == ".env", f"{name} takes its settings from .env"


def test_the_secret_check_finds_inline_secrets() -> None:
    """The check above is not vacuous: an inline key, password or URL password is caught."""
    leaky = {
        "app": {
            "environment": {
                "KIS_APP_SECRET": "abc",
                "DATABASE_URL": "postgresql://trader:hunter2@postgres/trader",
                "STUDIO_AUTH_TOKEN": "${STUDIO_AUTH_TOKEN}",
            }
        },
        "db": {"environment": ["POSTGRES_PASSWORD=hunter2"]},
        "img": {"build": {"context": ".", "args": {"OPENAI_API_KEY": "${OPENAI_API_KEY}"}}},
    }
    assert sorted(inline_secrets(leaky)) == [
        "app: DATABASE_URL has a password in its URL",
        "app: KIS_APP_SECRET",
        "db: POSTGRES_PASSWORD",
        "img: build arg OPENAI_API_KEY (a secret would stay in the image)",
    ]


def test_every_compose_variable_is_documented() -> None:
    """`${VAR}` references are filled from .env: each is an app setting or a Compose one."""
    referenced = set(REFERENCE.findall(json.dumps(compose())))
    documented = set(
        re.findall(
            r"^#?\s*([A-Z][A-Z0-9_]+)=",
            (REPO_ROOT / "deploy" / "compose.env.example").read_text(encoding="utf-8"),
            flags=re.MULTILINE,
        )
    )
    settings = {name.upper() for name in Settings.model_fields}
    assert {"POSTGRES_PASSWORD", "PUBLISH_HOST"} <= referenced
    assert referenced - documented - settings == set()
    assert documented & settings == set(), "compose.env.example repeats an app setting"


def test_databases_point_at_the_postgres_service() -> None:
    all_services = services()
    postgres = environment(all_services["postgres"])
    app_url = make_url(REFERENCE.sub("pw", environment(all_services["app"])["DATABASE_URL"]))
    assert app_url.get_backend_name() == "postgresql"
    assert (app_url.host, app_url.port) == ("postgres", 5432)
    assert (app_url.username, app_url.database) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_DB"],
    )
    assert "pg_isready" in " ".join(all_services["postgres"]["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in all_services["postgres"]["volumes"])
    assert "postgres-data" in compose()["volumes"]

    server = environment(all_services["langgraph-api"])
    assert server["REDIS_URI"] == "redis://redis:6379"
    server_db = make_url(REFERENCE.sub("pw", server["DATABASE_URI"]))
    assert server_db.host == "postgres" and server_db.database != app_url.database
    init_sql = "".join(
        path.read_text(encoding="utf-8")
        for path in sorted((REPO_ROOT / "deploy" / "postgres-init").glob("*.sql"))
    )
    assert f"CREATE DATABASE {server_db.database};" in init_sql
    # The served graph's checkpoints and records go to the app's database.
    assert server["DATABASE_URL"] == environment(all_services["app"])["DATABASE_URL"]


# --- the app image ----------------------------------------------------------------------------


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = {line.strip().rstrip("/") for line in lines if line.strip()}
    assert {".env", ".env.*", "data", ".venv", ".git"} <= patterns


def test_app_image_installs_the_lock_without_dev_tools_and_runs_unprivileged() -> None:
    instructions = dockerfile_instructions(APP_DOCKERFILE)
    runs = " ".join(arg for word, arg in instructions if word == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    assert instructions[0] == ("FROM", "python:3.11-slim AS build")
    stage = final_stage(APP_DOCKERFILE)
    users = [arg for word, arg in stage if word == "USER"]
    assert users and users[-1] not in {"root", "0"}
    health = " ".join(arg for word, arg in stage if word == "HEALTHCHECK")
    assert "/api/health" in health
    assert image_command()[:1] == ["trader"]


@pytest.mark.parametrize(
    "source",
    ["Dockerfile CMD", "compose app", "compose scheduler", "compose migrate", "scheduler health"],
)
def test_commands_are_registered_trader_commands(source: str) -> None:
    if source == "Dockerfile CMD":
        argv = image_command()[1:]
        assert argv[:3] == ["serve", "--host", "0.0.0.0"]
    elif source == "scheduler health":
        test = services()["scheduler"]["healthcheck"]["test"]
        assert test[:2] == ["CMD", "trader"]
        argv = test[2:]
    else:
        service = services()[source.split()[1]]
        assert service["build"]["dockerfile"] == "Dockerfile"  # ENTRYPOINT ["trader"]
        argv = trader_argv(service)
    check_trader_command(argv)


def test_the_command_check_refuses_unknown_options() -> None:
    """The check above is not vacuous: a wrong option of a registered command fails it."""
    with pytest.raises(pytest.fail.Exception, match="does not parse"):
        check_trader_command(["db", "upgrade", "--no-such-option"])
    with pytest.raises(pytest.skip.Exception, match="not registered yet"):
        check_trader_command(["no-such-command"])


def test_the_command_check_runs_once_serve_and_schedule_exist() -> None:
    """What the skipped checks do after the merge, on a stand-in `trader` with both commands."""
    stand_in = typer.Typer()

    @stand_in.command("serve")
    def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
        """Serve."""

    @stand_in.command("schedule")
    def schedule() -> None:
        """Schedule."""

    check_trader_command(image_command()[1:], stand_in)
    check_trader_command(trader_argv(services()["app"]), stand_in)
    check_trader_command(trader_argv(services()["scheduler"]), stand_in)
    with pytest.raises(pytest.fail.Exception, match="does not parse"):
        check_trader_command(["serve", "--host", "0.0.0.0", "--workers", "2"], stand_in)
