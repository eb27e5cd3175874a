"""Fault injection: each kind, before and after processing, and path filters."""

from __future__ import annotations

import time

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
