import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.db.resume_graph", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(("first", "second"), [("sync", "async"), ("async", "sync")])
def test_interrupt_in_one_process_resume_in_another(db_url: str, first: str, second: str) -> None:
    paused = _run("start", first, db_url, "thread-1")
    assert paused == {"interrupt": {"orders": ["005930"], "question": "approve?"}}

    done = _run("resume", second, db_url, "thread-1", "yes")
    assert done["state"]["decision"] == "yes"
    assert done["state"]["steps"] == ["proposed 005930", "approved", "executed after yes"]

    # A second thread on the same database is independent of the first.
    assert _run("start", second, db_url, "thread-2") == paused
