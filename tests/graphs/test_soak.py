"""The fault soak, short: a few sessions against a faulty KIS simulator, runners killed.

`bench/soak.py` runs 100 sessions and 30 kills; this runs a handful of each with the same
machinery (the simulator over loopback HTTP with faults at the wire, runner processes forked
from a fork server, SIGKILL, concurrent and next-day resumes) and asserts that none of the five
invariants is violated. PostgreSQL when TEST_DATABASE_URL is set, else SQLite.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.soak import INVARIANTS, Soak, SoakOptions

pytestmark = pytest.mark.slow


@pytest.fixture
def soak_db(request: pytest.FixtureRequest) -> str:
    name = "pg_url" if os.environ.get("TEST_DATABASE_URL") else "sqlite_url"
    return str(request.getfixturevalue(name))


def test_short_soak_keeps_every_invariant(soak_db: str, tmp_path: Path) -> None:
    options = SoakOptions(
        sessions=5,
        kills=3,
        seed=11,
        db_url=soak_db,
        workdir=tmp_path / "soak",
        faults_per_session=(2, 4),
        log=lambda _line: None,
    )
    report = Soak(options).run()
    summary = "\n".join(report.lines())
    assert report.sessions == 5, summary
    assert report.sessions_finished == report.sessions, summary
    assert report.kills >= 2, summary
    assert report.concurrent_resumes >= 1 and report.next_day_resumes >= 1, summary
    assert sum(report.faults_fired.values()) >= 4, summary
    assert report.orders_approved >= 2, summary
    assert {name: found for name, found in report.violations.items() if found} == {}, summary
    assert list(report.violations) == list(INVARIANTS)
