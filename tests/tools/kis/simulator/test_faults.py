"""Fault injection: each kind, before and after processing, and path filters."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from tests.tools.kis.simulator.kis_wire import WireCaller


def test_http_500_and_malformed_json(start_sim) -> None:
    sim, caller = start_sim()
    sim.faults.inject("http_500")
    failed = caller.price("005930")
    assert failed.status_code == 500
    with pytest.raises(ValueError):
        failed.json()
    sim.faults.inject("malformed_json", path="/quotations/inquire-price", count=2)
    assert caller.balance().json()["rt_cd"] == "0"
    for _ in range(2):
        broken = caller.price("005930")
        assert broken.status_code == 200
        with pytest.raises(ValueError):
            broken.json()
    assert caller.price("005930").json()["rt_cd"] == "0"


def test_http_500_after_processing_keeps_the_order(start_sim) -> None:
    sim, caller = start_sim()
    sim.faults.inject("http_500", path="/trading/order-cash", after_processing=True)
    assert caller.order("buy", "005930", 1, 0, "01").status_code == 500
    assert len(sim.broker_orders()) == 1 and sim.stats.orders == 1


def test_timeout_before_and_after_processing(start_sim) -> None:
    sim, first = start_sim(timeout_delay_s=5.0)
    caller = WireCaller(sim.base_url, sim.cfg, timeout=0.3)
    caller.token = first.token
    try:
        sim.faults.inject("timeout", path="/trading/order-cash")
        with pytest.raises(httpx.ReadTimeout):
            caller.order("buy", "005930", 1, 0, "01")
        assert sim.broker_orders() == []
        sim.faults.inject("timeout", path="/trading/order-cash", after_processing=True)
        with pytest.raises(httpx.ReadTimeout):
            caller.order("buy", "005930", 2, 0, "01")
        # The client gave up after 0.3 s; on a loaded machine the server may book the order a
        # moment later. It must book it (and only it) well before the held answer is due.
        deadline = time.monotonic() + 4.0
        while not sim.broker_orders() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [o.qty for o in sim.broker_orders()] == [2]
    finally:
        caller.close()


def test_revoke_tokens_then_reissue(start_sim, shared_dir) -> None:
    sim, caller = start_sim()
    sim.faults.inject("revoke_tokens")
    expired = caller.price("005930")
    assert (expired.status_code, expired.json()["msg_cd"]) == (500, "EGW00123")
    old = caller.token
    assert caller.issue_token().status_code == 200 and caller.token != old
    assert caller.price("005930").status_code == 200


def test_rate_limit_burst(start_sim) -> None:
    sim, caller = start_sim()
    sim.faults.inject("rate_limit_burst", count=2)
    codes = [caller.price("005930") for _ in range(3)]
    assert [c.status_code for c in codes] == [500, 500, 200]
    assert codes[0].json()["msg_cd"] == "EGW00201"
    assert sim.stats.rate_limited == 2
    assert sim.stats.requests_by_path["/uapi/domestic-stock/v1/quotations/inquire-price"] == 3


def test_unknown_fault_kind_is_refused(start_sim) -> None:
    sim, _ = start_sim()
    with pytest.raises(ValueError):
        sim.faults.inject("meteor")  # type: ignore[arg-type]


def test_invalidate_tokens_keeps_the_one_per_minute_rule(start_sim) -> None:
    sim, caller = start_sim(token_min_interval_s=60.0)
    sim.faults.inject("invalidate_tokens")
    revoked = caller.price("005930")
    assert (revoked.status_code, revoked.json()["msg_cd"]) == (500, "EGW00121")
    too_soon = caller.issue_token()
    assert (too_soon.status_code, too_soon.json()["error_code"]) == (403, "EGW00133")
    assert sim.faults.fired["invalidate_tokens"] == 1


def test_query_again_hits_a_continuation_page_only(start_sim) -> None:
    sim, caller = start_sim(page_size=2)
    for ticker in ("005930", "000660", "035720"):
        assert caller.order("buy", ticker, 1, 0, "01").json()["rt_cd"] == "0"
    sim.faults.inject("query_again", path="/trading/inquire-daily-ccld")
    first = caller.daily_ccld("20260310")
    assert first.json()["rt_cd"] == "0" and first.headers["tr_cont"] == "F"
    body = first.json()
    again = caller.daily_ccld(
        "20260310", tr_cont="N", fk=body["ctx_area_fk100"], nk=body["ctx_area_nk100"]
    )
    assert again.status_code == 200
    assert (again.json()["rt_cd"], again.json()["msg_cd"]) == ("1", "SYDB0050")
    assert "다시 조회" in again.json()["msg1"]
    # Asked again from the first page, the query goes through.
    assert caller.daily_ccld("20260310").json()["rt_cd"] == "0"


def test_order_list_lag_hides_a_new_order_for_seconds_and_lookups(start_sim, clock) -> None:
    sim, caller = start_sim()
    sim.faults.inject("order_list_lag", path="/trading/order-cash", lag_s=5.0, lag_lookups=2)
    assert caller.order("buy", "005930", 1, 0, "01").json()["rt_cd"] == "0"
    assert caller.order("buy", "000660", 1, 0, "01").json()["rt_cd"] == "0"

    def listed() -> list[str]:
        return [r["pdno"] for r in caller.daily_ccld("20260310").json()["output1"]]

    assert listed() == ["000660"]
    assert listed() == ["000660"]  # two lookups used up, but 5 s have not passed
    clock.advance(timedelta(seconds=5))
    assert sorted(listed()) == ["000660", "005930"]
    assert len(sim.broker_orders()) == 2
