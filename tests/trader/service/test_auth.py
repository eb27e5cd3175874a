"""Who may call the API: the bearer token, an open health route, and no token on a real account."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.clock import Clock
from core.errors import ConfigurationError
from tests.trader.service.conftest import AUTH, TOKEN, service_settings
from trader.cli.main import app as cli
from trader.service.app import create_app

PROTECTED = ("/api/portfolio", "/api/sessions", "/api/orders", "/api/sessions/nope:2026-11-26:x")
REAL = {
    "trading_mode": "kis-real",
    "kis_app_key": "k",
    "kis_app_secret": "s",
    "kis_account_no": "12345678",
    "kis_real_account_confirm": "12345678",
}


def test_every_route_but_health_needs_the_token(client: TestClient) -> None:
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/health").json()["status"] == "ok"
    wrong = (
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    )
    for path in PROTECTED:
        for headers in wrong:
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
            assert "SERVICE_AUTH_TOKEN" in response.json()["detail"]
        for method in (client.post,):
            assert method("/api/sessions").status_code == 401
            assert method("/api/sessions/x/approval", json={"approve_all": True}).status_code == 401
    # With the token: 200 (the unknown session is a 404, not a 401).
    for path in PROTECTED[:3]:
        assert client.get(path, headers=AUTH).status_code == 200, path
    assert client.get(PROTECTED[3], headers=AUTH).status_code == 404
    # The OpenAPI schema documents the bearer scheme and the routes.
    schema = client.get("/openapi.json").json()
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert "/api/sessions/{thread_id}/approval" in schema["paths"]
    assert client.get("/docs").status_code == 200


def test_a_real_account_without_a_token_refuses_to_start(
    tmp_path: Path, clock: Callable[[], Clock]
) -> None:
    url = f"sqlite:///{tmp_path / 'trader.db'}"
    real = service_settings(tmp_path, url, service_auth_token=None, **REAL)
    with pytest.raises(ConfigurationError, match="SERVICE_AUTH_TOKEN"):
        create_app(real, clock=clock)
    blank = service_settings(tmp_path, url, service_auth_token="  ", **REAL)
    with pytest.raises(ConfigurationError, match="SERVICE_AUTH_TOKEN"):
        create_app(blank, clock=clock)
    # With a token it is served (and still guarded by it).
    with TestClient(create_app(service_settings(tmp_path, url, **REAL), clock=clock)) as client:
        assert client.get("/api/orders").status_code == 401
        assert client.get("/api/orders", headers=AUTH).status_code == 200


def test_trader_serve_refuses_a_real_account_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in REAL.items():
        monkeypatch.setenv(name.upper(), value)
    result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 2, result.output
    assert "SERVICE_AUTH_TOKEN" in result.output
    assert "Serving on" not in result.output


def test_paper_without_a_token_is_served_with_a_warning(
    tmp_path: Path, clock: Callable[[], Clock], caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'trader.db'}"
    with caplog.at_level(logging.WARNING, logger="trader.service.auth"):
        app = create_app(service_settings(tmp_path, url, service_auth_token=None), clock=clock)
    assert any("SERVICE_AUTH_TOKEN is not set" in r.getMessage() for r in caplog.records)
    with TestClient(app) as client:
        assert client.get("/api/portfolio").status_code == 200
