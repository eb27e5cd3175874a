"""One trading session of the fault soak, in a process the soak may SIGKILL at any moment.

    uv run python -m bench.soak_runner session --db URL --data DIR --base-url URL \
        --thread T --portfolio P --account CANO --tickers 005930,000660 --day 2025-06-10 --epoch E
    uv run python -m bench.soak_runner serve      # a fork server (see below)

`session` drives one thread to its end the way `trader session run --auto-approve` does: a new
thread runs to the approval, is approved in full and executed; a thread that exists continues
from its last checkpoint (stopped part-way: `proceed`; waiting at the approval: approved). It
prints one JSON line (status, the executor's outcomes) and exits 0, or 1 when the session
stopped on an error (the soak continues it again, as a person would).

The venue is `kis-real` with `KIS_BASE_URL` pointed at the soak's KIS simulator (a real HTTP
server on loopback). The clock is the wall clock moved so that `--epoch` reads 10:00 KST on
`--day`: every process of a soak agrees on the time, and a resume "the next day" is the same
wall clock on a later `--day`. For speed the soak's client times out after `--kis-timeout`
seconds (the simulator holds a timed-out answer a little longer) and waits less before asking
the broker about an order in doubt; orders are followed for `--fill-timeout` seconds.

`serve` is a fork server: it imports the application and builds the KRX calendar once (9 s and
15 s of CPU on a busy 2-core machine), then reads
one JSON request a line on stdin (``{"id": ..., "argv": [...], "out": PATH, "log": PATH}``),
forks a child per request that runs `session` with those arguments (its JSON line to `out`, its
logs to `log`), and writes ``{"id": ..., "pid": PID}`` when it forks and ``{"id": ...,
"exit": CODE}`` when the child ends (a negative code is the signal that killed it). The child
is the runner process: the soak SIGKILLs it by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from pydantic import SecretStr

from agents.state import SessionInput
from core.clock import KST
from core.errors import ExecutorBusyError
from db.checkpointer import open_async_checkpointer
from graphs.nodes.approval import ApprovalResponse
from graphs.runner import SessionRunner, SessionStoppedError, ThreadView
from graphs.trading_session import build_graph
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.krx.calendar import krx_calendar
from tools.market_data import KISMarketData
from trader.settings import Settings
from trader.wiring.configs import kis_config
from trader.wiring.context import open_session_context

APP_KEY = "PSsoak" + "k" * 30
"""The soak's 36-character app key (the simulator accepts only this pair)."""
APP_SECRET = ("soak-secret-" * 16)[:180]
REPO = Path(__file__).resolve().parents[1]
SESSION_OPEN = (10, 0)
"""What `--epoch` reads as on `--day` (KST): mid-morning, the market open."""


class SoakClock:
    """The wall clock moved so that the instant `epoch` reads as 10:00 KST on `day`."""

    def __init__(self, day: date, epoch: float) -> None:
        """Map `epoch` (seconds since 1970) to the session open of `day`."""
        self.epoch = epoch
        self.day = day

    def now(self) -> datetime:
        """Return the shifted instant (UTC)."""
        start = datetime(self.day.year, self.day.month, self.day.day, *SESSION_OPEN, tzinfo=KST)
        return start.astimezone(UTC) + timedelta(seconds=time.time() - self.epoch)


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings of one session's process: kis-real on the simulator, its own account."""
    values: dict[str, Any] = {
        "trading_mode": "kis-real",
        "kis_app_key": SecretStr(APP_KEY),
        "kis_app_secret": SecretStr(APP_SECRET),
        "kis_account_no": SecretStr(args.account),
        "kis_base_url": args.base_url,
        "kis_rate_limit_per_s": args.rate,
        "kis_token_min_interval_s": args.token_interval,
        "database_url": args.db,
        "data_dir": Path(args.data),
        # The real-account markers stay in the soak's folder, never the user's state folder.
        "state_dir": Path(args.data) / "state",
        "portfolio": args.portfolio,
        "watchlist": tuple(args.tickers.split(",")),
        "kis_real_account_confirm": SecretStr(args.account),  # a real account is confirmed
    }
    return Settings(**values)


def _progress(node: str, update: dict[str, Any]) -> None:
    """Log each finished node with the time, so a runner's log shows where it was killed."""
    logging.getLogger("soak").warning("node %s done", node)


def _outcome(view: ThreadView) -> dict[str, Any]:
    return {
        "finished": view.finished,
        "status": view.status,
        "next": list(view.next_nodes),
        "executions": view.values.get("executions", []),
    }


async def run_session(args: argparse.Namespace) -> dict[str, Any]:
    """Drive the thread to its end (or as far as it goes); return what to print."""
    log = logging.getLogger("soak")
    log.warning("runner started")
    settings = settings_for(args)
    clock = SoakClock(date.fromisoformat(args.day), args.epoch)
    config = kis_config(settings).model_copy(
        update={
            "timeout_s": args.kis_timeout,
            "reconcile_delay_s": 0.3,
            "retry_wait_s": 0.2,
        }
    )
    async with (
        open_session_context(settings, clock=clock) as ctx,
        open_async_checkpointer(settings.resolved_database_url) as saver,
        KISClient(config, clock=clock) as kis,
    ):
        # The same venue, with the soak's shorter client timeouts (see the module docstring).
        ctx.kis = kis
        ctx.market = KISMarketData(kis, news=True)
        ctx.broker = KISBroker(kis)
        ctx.fill_timeout = timedelta(seconds=args.fill_timeout)
        # Compressed like the token interval: a killed runner's lease lapses in seconds.
        ctx.executor_lease_ttl = timedelta(seconds=args.lease_ttl)
        ctx.fill_poll_interval_s = args.poll
        runner = SessionRunner(build_graph().compile(checkpointer=saver), ctx)
        log.warning("context opened")
        view = await runner.view(args.thread)
        if not view.exists:
            session: SessionInput = {
                "portfolio": args.portfolio,
                "session_date": args.day,
                # Each soak session is a session of its own: a portfolio has one session per
                # (date, phase), and a second thread of one would stop as a duplicate.
                "phase": args.thread,
                "tickers": args.tickers.split(","),
            }
            view = await runner.start(args.thread, session, _progress)
        elif view.stopped_part_way:
            view = await runner.proceed(args.thread, _progress)
        if view.awaiting_approval:
            answer = ApprovalResponse(approve_all=True, decided_by="soak")
            view = await runner.resume(args.thread, answer, _progress)
        return _outcome(view)


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse the `session` arguments."""
    parser = argparse.ArgumentParser(prog="soak_runner session")
    parser.add_argument("--db", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--thread", required=True)
    parser.add_argument("--portfolio", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--tickers", required=True)
    parser.add_argument("--day", required=True)
    parser.add_argument("--epoch", type=float, required=True)
    parser.add_argument("--rate", type=float, default=18.0)
    parser.add_argument("--token-interval", type=float, default=60.0)
    parser.add_argument("--lease-ttl", type=float, default=60.0)
    parser.add_argument("--kis-timeout", type=float, default=10.0)
    parser.add_argument("--fill-timeout", type=float, default=20.0)
    parser.add_argument("--poll", type=float, default=0.5)
    return parser.parse_args(argv)


BUSY = 4
"""Exit code of a runner refused because another process executes the session (sent nothing)."""


def session_main(argv: list[str]) -> int:
    """Run `session`; print its JSON line; 0 when it ran, 1 when it stopped on an error."""
    try:
        result = asyncio.run(run_session(parse(argv)))
    except SessionStoppedError as exc:
        print(json.dumps({"finished": False, "error": str(exc)}), flush=True)
        return 1
    except ExecutorBusyError as exc:
        print(json.dumps({"finished": False, "busy": str(exc)}), flush=True)
        return BUSY
    print(json.dumps(result), flush=True)
    return 0


# --- the fork server ---------------------------------------------------------------------------


def _child(request: dict[str, Any]) -> None:
    """In a forked child: run one session with its output and logs in files; never return."""
    code = 1
    try:
        log_fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        out_fd = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out_fd, 1)
        os.dup2(log_fd, 2)
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        logging.basicConfig(
            level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
        )
        code = session_main(list(request["argv"]))
    except BaseException:  # the child must never fall back into the server's loop
        logging.exception("soak runner child failed")
        code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    """Fork a session child per request line on stdin; report pids and exit codes on stdout."""
    children: dict[int, str] = {}
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin, selectors.EVENT_READ)
    stdin_open = True

    def say(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    # What every session builds first and never changes: the KRX calendar (about 15 s of CPU
    # on a busy machine) and the graph. Built once here, every child inherits them.
    krx_calendar()
    build_graph()
    say({"ready": True})
    while stdin_open or children:
        if stdin_open and selector.select(timeout=0.05):
            line = sys.stdin.readline()
            if not line:
                stdin_open = False
                selector.unregister(sys.stdin)
            elif line.strip():
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)
                children[pid] = request["id"]
                say({"id": request["id"], "pid": pid})
        elif not stdin_open:
            time.sleep(0.05)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            say({"id": children.pop(pid), "exit": os.waitstatus_to_exitcode(status)})


# --- the fork server's client ------------------------------------------------------------------


class ForkServer:
    """The runner fork server (`bench.soak_runner serve`): spawn sessions, learn their ends."""

    def __init__(self, workdir: Path) -> None:
        """Start the server and wait until it has imported the application."""
        self._log: IO[bytes] = (workdir / "fork-server.log").open("ab")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.soak_runner", "serve"],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._cond = threading.Condition()
        self._pids: dict[str, int] = {}
        self._exits: dict[str, int] = {}
        self._ready = False
        self._reader = threading.Thread(target=self._read, name="fork-server", daemon=True)
        self._reader.start()
        with self._cond:
            if not self._cond.wait_for(lambda: self._ready, timeout=300):
                raise RuntimeError("the runner fork server did not start")

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            message = json.loads(line)
            with self._cond:
                if message.get("ready"):
                    self._ready = True
                elif "pid" in message:
                    self._pids[message["id"]] = message["pid"]
                elif "exit" in message:
                    self._exits[message["id"]] = message["exit"]
                self._cond.notify_all()

    def spawn(self, ident: str, argv: list[str], out: Path, log: Path) -> int:
        """Fork a runner for `argv`; return its pid."""
        assert self._proc.stdin is not None
        request = {"id": ident, "argv": argv, "out": str(out), "log": str(log)}
        with self._cond:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            if not self._cond.wait_for(lambda: ident in self._pids, timeout=60):
                raise RuntimeError("the fork server did not fork")
            return self._pids[ident]

    def wait(self, ident: str, timeout: float) -> int | None:
        """Return the runner's exit code (negative: killed by that signal), None on timeout."""
        with self._cond:
            self._cond.wait_for(lambda: ident in self._exits, timeout=timeout)
            return self._exits.get(ident)

    def close(self) -> None:
        """Stop the server once its children have ended."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()


def main() -> int:
    """Entry point: `session ...` or `serve`."""
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve()
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "session":
        logging.basicConfig(level=logging.WARNING)
        return session_main(sys.argv[2:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
