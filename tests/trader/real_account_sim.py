"""A real account (`TRADING_MODE=kis-real`) pointed at the KIS simulator over real HTTP.

`serve_real_account` (a fixture's body) serves a real-mode simulator on loopback and points
the settings of a real account at it: keys, account, the KIS_REAL_ACCOUNT_CONFIRM opt-in and
`KIS_BASE_URL`. The CLI's clock is pinned to a trading morning (running at real speed).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest

from core.clock import KST
from tests.trader.clocks import ShiftedClock
from tools.kis.simulator import SimulatorConfig, SimulatorServer

START = datetime(2026, 11, 26, 10, 0, tzinfo=KST)
THREAD = "default:2026-11-26:regular"
TICKERS = "051910,035420"
"""Two tickers the seeded market rates a buy on START."""
APP_KEY = "PSvenue" + "k" * 29
APP_SECRET = "venue-secret-" + "s" * 167
ACCOUNT = "87654321"


def serve_real_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SimulatorServer]:
    """A real-mode simulator on loopback, and the settings of a real account pointed at it."""
    monkeypatch.setattr("trader.cli.clock.session_clock", partial(ShiftedClock, START))
    config = SimulatorConfig(
        mode="real", app_key=APP_KEY, app_secret=APP_SECRET, account_no=ACCOUNT,
        store_path=tmp_path / "sim.db", clock=ShiftedClock(START), always_open=True,
    )  # fmt: skip
    with SimulatorServer(config, port=0) as sim:
        for name, value in {
            "TRADING_MODE": "kis-real",
            "KIS_APP_KEY": APP_KEY,
            "KIS_APP_SECRET": APP_SECRET,
            "KIS_ACCOUNT_NO": ACCOUNT,
            "KIS_REAL_ACCOUNT_CONFIRM": ACCOUNT,
            "KIS_BASE_URL": sim.base_url,
        }.items():
            monkeypatch.setenv(name, value)
        yield sim
