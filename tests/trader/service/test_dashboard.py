"""The dashboard's files and the bars route, without a browser (the browser test drives them)."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from tests.trader.service.conftest import AUTH, START, THREAD, TOKEN


def test_pages_and_files_are_served_from_the_package_without_a_token(client: TestClient) -> None:
    for path in ("/", f"/sessions/{THREAD}"):
        page = client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert 'src="/static/dashboard.js"' in page.text
        assert "/static/vendor/plotly.min.js" in page.text
        assert "http" not in page.text  # nothing from a CDN: the page works offline
        assert TOKEN not in page.text
    script = client.get("/static/dashboard.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "sessionStorage" in script.text and "Authorization" in script.text
    assert client.get("/static/dashboard.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/index.html").status_code == 404  # only the named files
    assert client.get("/static/..%2Fapp.py").status_code == 404
    vendor = client.get("/static/vendor/plotly.min.js")
    assert vendor.status_code == 200
    assert "max-age=" in vendor.headers["cache-control"]
    assert len(vendor.content) > 1_000_000 and b"plotly" in vendor.content[:2000].lower()
    again = client.get(
        "/static/vendor/plotly.min.js", headers={"If-None-Match": vendor.headers["etag"]}
    )
    assert again.status_code == 304 and not again.content


def test_bars_need_the_token_and_come_from_the_sessions_market(client: TestClient) -> None:
    assert client.get("/api/bars/051910").status_code == 401
    assert client.get("/api/bars/bad!", headers=AUTH).status_code == 422
    assert client.get("/api/bars/051910?days=0", headers=AUTH).status_code == 422
    bars = client.get("/api/bars/051910?days=30", headers=AUTH)
    assert bars.status_code == 200, bars.text
    rows = bars.json()
    assert 20 <= len(rows) <= 30
    days = [date.fromisoformat(r["day"]) for r in rows]
    assert days == sorted(days) and days[-1] <= START.date()
    assert all(r["low"] <= r["close"] <= r["high"] and r["close"] > 0 for r in rows)
