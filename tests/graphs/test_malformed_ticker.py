"""One ticker's malformed KIS answer fails that ticker, with the reason; the session goes on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.graphs.malformed_kis import CHART_PATH, MULTI_PATH, MalformedFor
from tests.graphs.session_harness import TICKERS, open_harness
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.simulator import create_app
from tools.market_data import KISMarketData
from trader.wiring.context import demo_kis_config, demo_simulator_config

pytestmark = pytest.mark.anyio
BAD = "051910"


@pytest.mark.parametrize(
    ("path", "rows", "why"),
    [
        (CHART_PATH, False, "output2[0].stck_clpr"),
        (CHART_PATH, True, "output2 is not a list"),
        (MULTI_PATH, False, "inter2_prpr"),
    ],
    ids=["chart-cell", "chart-rows", "quote"],
)
async def test_a_malformed_body_for_one_ticker_fails_only_that_ticker(
    sqlite_url: str, tmp_path: Path, path: str, rows: bool, why: str
) -> None:
    async with open_harness(sqlite_url, tmp_path / "data") as h:
        settings = h.settings
        sim = demo_simulator_config(settings, h.clock)
        transport = MalformedFor(
            httpx.ASGITransport(app=create_app(sim)), ticker=BAD, path=path, rows=rows
        )
        kis = KISClient(demo_kis_config(settings, sim), transport=transport, clock=h.clock)
        h.ctx = replace(h.ctx, kis=kis, market=KISMarketData(kis), broker=KISBroker(kis))
        try:
            out = await h.trigger(tickers=list(TICKERS))
            assert transport.spoiled >= 1
            assert out["status"] == "awaiting_approval"
            orders = out["__interrupt__"][0].value["orders"]
            good = set(TICKERS) - {BAD}
            assert {o["ticker"] for o in orders} == good
            signals = {s["ticker"]: s for s in out["signals"]}
            if path == MULTI_PATH:
                reason = out["context"]["unknown_tickers"][BAD]
                assert "could not be quoted" in reason and why in reason
                # The others came in the same batch, with the day's limits KIS announced.
                for ticker in good:
                    snapshot = out["context"]["market"][ticker]
                    lower, upper = snapshot["lower_limit_krw"], snapshot["upper_limit_krw"]
                    assert lower < snapshot["last_price_krw"] < upper
            else:
                # The market analyst could not read the chart: its opinion says why (the
                # fundamental analyst, which reads no chart, still judged the ticker).
                (chart_reader,) = [
                    o
                    for o in out["opinions"]
                    if o["ticker"] == BAD and o["agent"] == "market_analyst"
                ]
                assert chart_reader["status"] == "data_failed"
                assert why in chart_reader["rationale"]
            for ticker in good:
                assert signals[ticker]["status"] == "ok", signals[ticker]
                assert all(o["status"] == "ok" for o in out["opinions"] if o["ticker"] == ticker)
            done = await h.resume({"approve_all": True, "decided_by": "test"})
            assert done["status"] == "done"
        finally:
            await kis.aclose()
