"""The dashboard in a real browser: headless Chromium against a real Uvicorn server.

The browser asks for the token, runs the demo session (four proposed buys on the pinned day
and default watchlist), approves the first order, edits the second to a smaller quantity,
rejects the rest, and sees the outcome on the page; the database agrees.

Needs Debian's `/usr/bin/chromium` and the `playwright` package (never `playwright install`):
outside CI the test skips without them; with `CI=true` their absence is a failure.
`UPDATE_SCREENSHOT=1` copies the final screenshot to `docs/dashboard.png` (the README's).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from core.clock import Clock
from core.orders import OrderStatus
from tests.trader.service.conftest import AUTH, THREAD, TOKEN, service_settings
from tests.trader.service.test_sessions import db_orders, served
from trader.settings import DEFAULT_WATCHLIST, Settings

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
UPDATE_SCREENSHOT = os.environ.get("UPDATE_SCREENSHOT") == "1"
SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "dashboard.png"
WAIT_MS = 120_000
"""Generous: the session runs and its orders fill at wall-clock speed on a shared machine."""


def _need(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("the playwright package is not installed (uv sync --dev)")
    if not CHROMIUM.exists():
        _need(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def dashboard_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """The demo market on the default watchlist, which proposes four buys on the pinned day."""
    return service_settings(tmp_path / "data", sqlite_url, watchlist=",".join(DEFAULT_WATCHLIST))


def test_approve_edit_reject_in_the_browser(
    browser: Any, dashboard_settings: Settings, clock: Callable[[], Clock], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with served(dashboard_settings, clock) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # The API answers 401: the page asks for the token once.
        page.goto(base + "/")
        expect(page.locator("#login")).to_be_visible()
        page.fill("#token", TOKEN)
        page.click("#login button[type=submit]")
        expect(page.locator("#login")).to_be_hidden()

        page.click("#run")
        rows = page.locator("#approval-orders tr")
        expect(rows.first).to_be_visible()
        # Each step of the run, as the service streamed it.
        steps = page.locator("#progress-steps li")
        expect(steps.first).to_have_attribute("data-node", "load_context")
        expect(page.locator('#progress-steps li[data-node="risk_manager"]')).to_contain_text(
            "orders proposed"
        )
        assert rows.count() >= 3
        expect(page.locator("#expiry")).not_to_be_empty()
        expect(page.locator("#signals tr").first).to_be_visible()
        assert TOKEN not in page.url

        ids = [rows.nth(i).get_attribute("data-order-id") or "" for i in range(rows.count())]
        first, second, third = ids[:3]
        second_row = page.locator(f'tr[data-order-id="{second}"]')
        original_qty = int(second_row.locator(".qty").input_value())
        assert original_qty > 1
        edited_qty = original_qty // 2
        second_row.locator(".action").select_option("edit")
        second_row.locator(".qty").fill(str(edited_qty))
        for rejected in ids[2:]:
            page.locator(f'tr[data-order-id="{rejected}"] .action').select_option("reject")
        page.fill("#decided-by", "browser-test")
        # A chart per signal, drawn by the plotly.js the app serves; then the README's picture.
        expect(page.locator("#charts .js-plotly-plot")).to_have_count(
            page.locator("#signals tr").count()
        )
        expect(page.locator("#charts .main-svg").last).to_be_visible()
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        page.click("#submit-approval")
        # The approval's steps and fills appear as they happen.
        expect(page.locator('#progress-steps li[data-node="review"]')).to_contain_text(
            "2 of 4 orders approved"
        )
        expect(page.locator("#progress-fills")).to_contain_text("following fills")
        expect(page.locator('#progress-steps li[data-node="report"]')).to_be_visible()

        def result(order_id: str, cell: str) -> Any:
            return page.locator(f'tr[data-result-id="{order_id}"] .{cell}')

        expect(result(first, "status")).to_have_text("filled")
        expect(result(first, "decision")).to_have_text("approve")
        expect(result(second, "status")).to_have_text("filled")
        expect(result(second, "decision")).to_have_text("edit")
        expect(result(second, "filled-qty")).to_have_text(f"{edited_qty:,}")
        expect(result(third, "status")).to_have_text("rejected")
        expect(result(third, "filled-qty")).to_have_text("0")
        expect(page.locator("#approval")).to_be_hidden()
        expect(page.locator("#session-status .status")).to_have_attribute("data-status", "finished")
        # Positions and the session list follow.
        expect(page.locator("#positions tr")).to_have_count(2)
        expect(page.locator("#sessions tr")).to_have_count(1)

        # The notification link opens the same session in a fresh tab (token kept in the tab's
        # sessionStorage only: a new context asks again).
        link = page.locator("#sessions a").first
        assert link.get_attribute("href") == f"/sessions/{THREAD}"
        other = browser.new_page()
        other.set_default_timeout(WAIT_MS)
        other.goto(base + (link.get_attribute("href") or ""))
        expect(other.locator("#login")).to_be_visible()
        other.fill("#token", TOKEN)
        other.click("#login button[type=submit]")
        expect(other.locator(f'tr[data-result-id="{second}"] .status')).to_have_text("filled")
        assert errors == []

        with httpx.Client(base_url=base, timeout=60) as http:
            listed = {o["client_order_id"]: o for o in http.get("/api/orders", headers=AUTH).json()}
            vendor = http.get("/static/vendor/plotly.min.js")
    assert vendor.status_code == 200 and "max-age" in vendor.headers["cache-control"]

    rows_by_id = {r.client_order_id: r for r in db_orders(dashboard_settings)}
    assert rows_by_id[first].status is OrderStatus.FILLED
    assert rows_by_id[first].filled_qty == rows_by_id[first].qty
    assert rows_by_id[second].status is OrderStatus.FILLED
    assert rows_by_id[second].qty == rows_by_id[second].filled_qty == edited_qty
    assert third not in rows_by_id or rows_by_id[third].filled_qty == 0
    assert listed[second]["filled_qty"] == edited_qty
    assert third not in listed or listed[third]["status"] != OrderStatus.FILLED.value

    if UPDATE_SCREENSHOT:
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
