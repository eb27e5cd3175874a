"""Notifications from settings: which channels, and what a session tells them.

`open_dispatcher` builds the notifier the settings ask for (Telegram, a Slack-compatible
webhook, both, or, by default, none) behind a `Dispatcher`, the point where a failing notifier
is logged and forgotten. `SessionNotifications` turns what a session does into events: it is the
runner's observer (`graphs.runner.RunObserver`: a pending approval, fills, a halt) and the
context's needs-review hook (`agents.context.NeedsReviewHook`). `open_runner` wires both, so
every path that runs a session through it (`trader session run`, `trader approve`, `trader demo`)
notifies without a call of its own. The graph a server serves (Studio, a LangGraph Server cron)
has no runner: `ServedNotifications` is its node observer (`trader.studio`).

The scheduler reports a run that failed or never started with `notify_scheduled_run_failed`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from agents.context import NeedsReview, log_needs_review
from agents.executor.models import OrderOutcome
from agents.risk.models import DecisionKind, RiskReport
from agents.state import ApprovalRequest
from graphs.runner import ThreadView
from tools.notify import (
    Dispatcher,
    FanOut,
    FillLine,
    Fills,
    NeedsReviewEvent,
    Notifier,
    NullNotifier,
    OrderLine,
    PendingApproval,
    ScheduledRunFailed,
    SessionHalted,
    TelegramConfig,
    TelegramNotifier,
    WebhookNotifier,
)
from tools.notify.http import HttpPolicy
from trader.settings import Settings

log = logging.getLogger(__name__)


def _set(secret: SecretStr | None) -> SecretStr | None:
    """A secret setting, or None when unset or blank (`KEY=` in a copied .env.example)."""
    return secret if secret is not None and secret.get_secret_value().strip() else None


def telegram_config(settings: Settings) -> TelegramConfig | None:
    """The bot and chat the settings configure (None: Telegram is off, needing both)."""
    token = _set(settings.notify_telegram_bot_token)
    chat = (settings.notify_telegram_chat_id or "").strip()
    if token is None or not chat:
        return None
    return TelegramConfig(
        bot_token=token,
        chat_id=chat,
        base_url=settings.notify_telegram_base_url,
        approval_buttons=settings.notify_telegram_approvals,
    )


def build_notifier(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Notifier:
    """The notifier the settings configure; `NullNotifier` when none is (the default).

    Telegram needs both its bot token and its chat id; the webhook only its URL.
    """
    policy = HttpPolicy(timeout_s=settings.notify_timeout_s)
    notifiers: list[Notifier] = []
    config = telegram_config(settings)
    if config is not None:
        notifiers.append(TelegramNotifier(config, policy=policy, transport=transport))
    elif (
        _set(settings.notify_telegram_bot_token) is not None
        or (settings.notify_telegram_chat_id or "").strip()
    ):
        log.warning(
            "Telegram notifications are off: set both NOTIFY_TELEGRAM_BOT_TOKEN and "
            "NOTIFY_TELEGRAM_CHAT_ID"
        )
    webhook = _set(settings.notify_webhook_url)
    if webhook is not None:
        notifiers.append(WebhookNotifier(webhook, policy=policy, transport=transport))
    if not notifiers:
        return NullNotifier()
    if len(notifiers) == 1:
        return notifiers[0]
    return FanOut(tuple(notifiers))


@asynccontextmanager
async def open_dispatcher(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Dispatcher]:
    """A dispatcher on the configured notifier; on exit it sends what is queued, then closes."""
    dispatcher = Dispatcher(build_notifier(settings, transport=transport))
    try:
        yield dispatcher
    finally:
        await dispatcher.aclose()


def session_link(settings: Settings, thread_id: str) -> str:
    """The page of a session: `SERVICE_PUBLIC_URL/sessions/<thread id>`."""
    base = settings.service_public_url.rstrip("/")
    return f"{base}/sessions/{quote(thread_id, safe=':')}"


# --- what a session tells --------------------------------------------------------------------


def order_lines(request: ApprovalRequest) -> tuple[OrderLine, ...]:
    """The orders of an approval request as messages show them, in the request's order."""
    return tuple(
        OrderLine(
            ticker=o.ticker,
            side=o.side,
            qty=o.qty,
            order_type=o.order_type,
            limit_price_krw=o.limit_price_krw,
        )
        for o in request.orders
    )


def pending_approval_event(request: ApprovalRequest, link: str) -> PendingApproval:
    """The message of an approval request: its orders, expiry and the page to decide on."""
    return PendingApproval(
        thread_id=request.thread_id,
        orders=order_lines(request),
        expires_at=datetime.fromisoformat(request.expires_at),
        link=link,
    )


def fills_event(thread_id: str, executions: list[dict[str, Any]]) -> Fills | None:
    """The message of the executor's outcomes: the orders with a fill (None: nothing filled)."""
    outcomes = [OrderOutcome.model_validate(e) for e in executions]
    lines = tuple(
        FillLine(
            ticker=o.ticker,
            side=o.side,
            qty=o.qty,
            filled_qty=o.filled_qty,
            filled_value_krw=o.filled_value_krw,
            status=o.status.value,
        )
        for o in outcomes
        if o.filled_qty > 0
    )
    return Fills(thread_id=thread_id, fills=lines) if lines else None


def halted_event(thread_id: str, risk_report: dict[str, Any]) -> SessionHalted | None:
    """The message of a risk report that halts new buys (None: no halt)."""
    report = RiskReport.model_validate(risk_report)
    if not report.buys_halted:
        return None
    reasons = tuple(d.reason for d in report.decisions if d.kind is DecisionKind.HALT)
    return SessionHalted(thread_id=thread_id, reasons=reasons)


class SessionNotifications:
    """The runner's observer and the context's needs-review hook, sending through a dispatcher."""

    def __init__(self, dispatcher: Dispatcher, settings: Settings) -> None:
        """Send through `dispatcher`; links point at the settings' `SERVICE_PUBLIC_URL`."""
        self.dispatcher = dispatcher
        self.settings = settings

    def node_finished(self, thread_id: str, node: str, update: dict[str, Any]) -> None:
        """A halt when the risk gate decides one; fills when the executor reports some."""
        if update.get("risk_report"):
            halted = halted_event(thread_id, update["risk_report"])
            if halted is not None:
                self.dispatcher.submit(halted)
        if update.get("executions"):
            fills = fills_event(thread_id, update["executions"])
            if fills is not None:
                self.dispatcher.submit(fills)

    def run_stopped(self, view: ThreadView) -> None:
        """A pending approval when the run stopped at the approval."""
        if view.awaiting_approval and view.request is not None:
            link = session_link(self.settings, view.thread_id)
            self.dispatcher.submit(pending_approval_event(view.request, link))

    def needs_review(self, item: NeedsReview) -> None:
        """The context's needs-review hook: the usual warning in the log, then a message."""
        log_needs_review(item)
        self.dispatcher.submit(
            NeedsReviewEvent(
                thread_id=item.thread_id,
                client_order_id=item.client_order_id,
                ticker=item.ticker,
                reason=item.reason,
            )
        )


class ServedNotifications(SessionNotifications):
    """The served graph's notifications: told each node's update, as no runner sees it stop.

    A run stops at the approval right after the risk manager asks for one, so the pending
    approval is told from the risk manager's update (its `approval_request`); the risk manager
    does not run again when the run resumes, so it is told once.
    """

    def node_finished(self, thread_id: str, node: str, update: dict[str, Any]) -> None:
        """A halt, then the pending approval the risk manager asks for; fills from the executor."""
        super().node_finished(thread_id, node, update)
        raw = update.get("approval_request")
        if raw:
            request = ApprovalRequest.model_validate(raw)
            link = session_link(self.settings, request.thread_id)
            self.dispatcher.submit(pending_approval_event(request, link))


async def notify_scheduled_run_failed(
    settings: Settings,
    *,
    job: str,
    scheduled_for: datetime,
    reason: str,
    started: bool,
    thread_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Tell the configured channels that a scheduled run failed (or never started).

    For the scheduler; never raises (a failing notifier is logged). `reason` must be free of
    secrets: pass the error's one-line message, as the CLI would print it.
    """
    async with open_dispatcher(settings, transport=transport) as dispatcher:
        await dispatcher.notify(
            ScheduledRunFailed(
                job=job,
                scheduled_for=scheduled_for,
                started=started,
                reason=reason,
                thread_id=thread_id,
            )
        )
