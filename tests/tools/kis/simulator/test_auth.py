"""Tokens, app keys and the per-second limit, as the documented gateway answers them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.tools.kis.simulator.conftest import ManualMonotonic
from tests.tools.kis.simulator.kis_wire import sample


def test_token_matches_sample_and_limit_answers_egw00133(
    start_sim, clock, shared_dir: Path
) -> None:
    sim, caller = start_sim(token=False, token_min_interval_s=60.0)
    first = caller.issue_token()
    assert first.status_code == 200
    body = first.json()
    assert body.keys() == sample(shared_dir, "tokenP.json").keys()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert body["access_token_token_expired"] == "2026-03-11 10:30:00"
    header = body["access_token"].split(".")[0]
    assert header == sample(shared_dir, "tokenP.json")["access_token"].split(".")[0]

    clock.advance(timedelta(seconds=30))
    again = caller.issue_token()
    assert again.status_code == 403
    assert again.json() == sample(shared_dir, "error-token-issue-limit.json")

    clock.advance(timedelta(seconds=31))
    reused = caller.issue_token()
    assert reused.status_code == 200
    assert reused.json()["access_token"] == body["access_token"]
    assert reused.json()["expires_in"] == 86400 - 61

    clock.advance(timedelta(hours=6))
    fresh = caller.issue_token()
    assert fresh.json()["access_token"] != body["access_token"]
    assert sim.stats.token_requests == 4


def test_bad_app_key_and_tokens(start_sim, clock, shared_dir: Path) -> None:
    _, caller = start_sim()
    bad = caller.issue_token(appkey="X" * 36)
    assert bad.status_code == 403
    assert bad.json() == sample(shared_dir, "error-invalid-appkey.json")

    assert caller.price("005930").status_code == 200
    good = caller.token
    caller.token = good[:-4] + "AAAA"
    invalid = caller.price("005930")
    assert (invalid.status_code, invalid.json()["msg_cd"]) == (500, "EGW00121")
    caller.token = good
    clock.advance(timedelta(hours=24))
    expired = caller.price("005930")
    assert expired.status_code == 500
    assert expired.json() == sample(shared_dir, "error-expired-token.json")


def test_revoke_approval_and_hashkey(start_sim, shared_dir: Path) -> None:
    _, caller = start_sim()
    cfg = caller.cfg
    approval = caller.http.post(
        "/oauth2/Approval",
        json={
            "grant_type": "client_credentials",
            "appkey": cfg.app_key,
            "secretkey": cfg.app_secret,
        },
    )
    assert approval.json().keys() == sample(shared_dir, "approval.json").keys()
    order = {"CANO": cfg.account_no, "ACNT_PRDT_CD": "01", "PDNO": "005930", "ORD_QTY": "1"}
    hashed = caller.http.post(
        "/uapi/hashkey", json=order, headers={"appkey": cfg.app_key, "appsecret": cfg.app_secret}
    )
    assert hashed.status_code == 200 and hashed.json()["HASH"] and hashed.json()["BODY"] == order
    body = {"appkey": cfg.app_key, "appsecret": cfg.app_secret, "token": caller.token}
    revoked = caller.http.post("/oauth2/revokeP", json=body)
    assert revoked.json() == sample(shared_dir, "revokeP.json")
    after = caller.price("005930")
    assert (after.status_code, after.json()["msg_cd"]) == (500, "EGW00121")
    twice = caller.http.post("/oauth2/revokeP", json=body)
    assert (twice.status_code, twice.json()["error_code"]) == (403, "EGW00121")


def test_wrong_app_key_on_uapi_is_egw00103(start_sim) -> None:
    _, caller = start_sim()
    headers = caller.headers("FHKST01010100") | {"appkey": "Y" * 36}
    response = caller.http.get(
        "/uapi/domestic-stock/v1/quotations/inquire-price",
        params={"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"},
        headers=headers,
    )
    assert (response.status_code, response.json()["msg_cd"]) == (500, "EGW00103")


def test_virtual_rate_limit_is_one_per_second(start_sim, shared_dir: Path) -> None:
    ticks = ManualMonotonic()
    sim, caller = start_sim(mode="virtual", rate_limit_per_s=None, monotonic=ticks)
    answers = [caller.price("005930") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 500, 500]
    assert answers[2].json() == sample(shared_dir, "error-rate-limit.json")
    assert sim.stats.rate_limited == 2
    ticks.advance(0.999)
    assert caller.price("005930").status_code == 500
    ticks.advance(0.001)
    assert caller.price("005930").status_code == 200


def test_real_rate_limit_is_18_in_any_second(start_sim) -> None:
    ticks = ManualMonotonic()
    sim, caller = start_sim(rate_limit_per_s=None, monotonic=ticks)
    codes = []
    for _ in range(36):
        ticks.advance(1 / 18)
        codes.append(caller.price("005930").status_code)
    assert codes == [200] * 36
    burst = [caller.price("005930").status_code for _ in range(2)]
    assert burst == [500, 500]  # a 19th inside the last second, counted in a sliding window
    ticks.advance(1 / 18)
    assert caller.price("005930").status_code == 200
    assert sim.stats.rate_limited == 2


def test_requests_are_counted_when_they_arrive() -> None:
    from tools.kis.simulator.ratelimit import SlidingWindow

    ticks = ManualMonotonic()
    window = SlidingWindow(18, 0, ticks)
    stamps = [ticks.now + i / 18 for i in range(40)]
    ticks.advance(5.0)  # the worker gets to them late, all at once, and out of order
    assert all(window.allow("k", at) for at in reversed(stamps))
    assert not window.allow("k", stamps[-1])
