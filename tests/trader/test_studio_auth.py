"""The Studio auth policy, decided from settings (the served tests drive it through HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langgraph_sdk import Auth

from trader.settings import Settings
from trader.studio_auth import StudioPolicy, policy_from_environment

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL = {
    "trading_mode": "kis-real",
    "kis_app_key": "k",
    "kis_app_secret": "s",
    "kis_account_no": "12345678",
    "kis_real_account_confirm": "12345678",
}


def _status(policy: StudioPolicy, authorization: str | None) -> int:
    try:
        policy.check(authorization)
    except Auth.exceptions.HTTPException as exc:
        return exc.status_code
    return 200


def test_token_is_required_when_set() -> None:
    policy = StudioPolicy.from_settings(Settings(studio_auth_token="t0k"))
    assert _status(policy, "Bearer t0k") == 200
    assert _status(policy, "bearer t0k") == 200
    for bad in (None, "", "t0k", "Bearer", "Bearer t0k0", "Basic t0k", "Bearer T0K"):
        assert _status(policy, bad) == 401, bad


def test_real_account_without_token_refuses_everything() -> None:
    policy = StudioPolicy.from_settings(Settings(**REAL))  # type: ignore[arg-type]
    assert policy.refusal and "STUDIO_AUTH_TOKEN" in policy.refusal
    for given in (None, "Bearer anything"):
        assert _status(policy, given) == 403
    blank = StudioPolicy.from_settings(Settings(**REAL, studio_auth_token="  "))  # type: ignore[arg-type]
    assert _status(blank, None) == 403
    with_token = StudioPolicy.from_settings(Settings(**REAL, studio_auth_token="t"))  # type: ignore[arg-type]
    assert _status(with_token, "Bearer t") == 200
    assert _status(with_token, None) == 401


def test_play_money_without_token_is_served() -> None:
    for extra in ({}, {**REAL, "trading_mode": "kis-virtual"}):
        policy = StudioPolicy.from_settings(Settings(**extra))  # type: ignore[arg-type]
        assert _status(policy, None) == 200


def test_bad_configuration_refuses_without_echoing_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_MODE", "kis-real")
    monkeypatch.setenv("KIS_APP_KEY", "secret-app-key-value")
    policy = policy_from_environment()
    assert _status(policy, "Bearer x") == 403
    assert policy.refusal and "KIS_APP_SECRET" in policy.refusal
    assert "secret-app-key-value" not in policy.refusal


def test_langgraph_json_serves_the_auth_and_disables_the_studio_bypass() -> None:
    config = json.loads((REPO_ROOT / "langgraph.json").read_text())
    assert config["auth"]["path"] == "./trader/studio_auth.py:auth"
    assert config["auth"]["disable_studio_auth"] is True
