"""Approving from Telegram: the buttons under a pending approval's message, answered by the service.

With `NOTIFY_TELEGRAM_APPROVALS=true` the pending approval's message carries approve all /
reject all buttons, and with two orders or more a button per order that flips it between
approve and reject and a "Send" that applies the marks (`tools.notify.approval_buttons`).
`trader serve` runs this poller: it long-polls the Bot API for presses (`getUpdates`), and for
each one

1. refuses it unless it comes from the configured chat (and, when `NOTIFY_TELEGRAM_APPROVERS`
   names users, from one of them);
2. finds the session by the key in the button's data among the recent runs;
3. answers "already decided" when the session no longer waits (a replayed or second press);
   a flip only redraws the buttons with the new marks; otherwise it answers at once that the
   decision is being applied (Telegram wants an answer within seconds, while executing takes
   until the fills are followed);
4. applies it through `SessionService.approve`, the API's guarded path (one executor per
   session: a press racing a browser's approval executes once), recording the approver as
   ``telegram:<user id>``;
5. rewrites the message with the outcome (its buttons go).

The Bot API failing never fails the service: the poller logs one redacted line, waits a
growing while, and polls again. A press handled before a restart is not handed out again
(the offset acknowledges it); one not yet handled is, and is judged afresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from core.errors import BusyError, ConfigurationError, TraderError
from db.models import Run
from graphs.nodes.approval import Action, ApprovalResponse, OrderDecision
from graphs.runner import ThreadView, not_waiting_message
from graphs.step_lines import describe_update
from tools.notify import NotifyError
from tools.notify.approval_buttons import (
    ButtonAction,
    ButtonPress,
    approval_keyboard,
    read_callback_data,
    thread_key,
)
from tools.notify.http import HttpPolicy
from tools.notify.telegram_bot import CallbackQuery, TelegramBot, chat_matches
from trader.service.errors import NotFoundError, NotWaitingError
from trader.service.sessions import SessionService
from trader.service.tasks import drain
from trader.settings import Settings, TradingMode
from trader.wiring.notify import order_lines, telegram_config

log = logging.getLogger(__name__)

RECENT_RUNS = 500
"""How many recent sessions a button's key is looked for among."""
MAX_BACKOFF_S = 60.0

NOT_THIS_CHAT = "Not accepted: approvals are taken only in the configured chat."
NOT_AN_APPROVER = "Not accepted: you are not one of the allowed approvers."
UNKNOWN_BUTTON = "Not accepted: this button is not one of the trader's."
NO_SESSION = "Not accepted: no such session among the recent ones."
BEING_DECIDED = "Already decided: an answer to this session is being applied."


def find_thread(db_sessions: sessionmaker[Session], key: str) -> str | None:
    """The thread id among the recent runs whose key is `key` (None: not found)."""
    with db_sessions() as session:
        ids = session.scalars(
            sa.select(Run.thread_id)
            .order_by(Run.started_at.desc(), Run.id.desc())
            .limit(RECENT_RUNS)
        ).all()
    return next((t for t in ids if thread_key(t) == key), None)


def rejected_orders(press: ButtonPress, orders: int) -> frozenset[int]:
    """The orders (0-based) a press rejects: all, none, or the marked ones."""
    if press.action is ButtonAction.REJECT:
        return frozenset(range(orders))
    if press.action is ButtonAction.SEND:
        return press.rejected
    return frozenset()


def response_for(press: ButtonPress, view: ThreadView, approver: str) -> ApprovalResponse:
    """The resume value of a press: approve every order, or decide each one by name."""
    assert view.request is not None
    if press.action is ButtonAction.APPROVE:
        return ApprovalResponse(approve_all=True, decided_by=approver)
    rejected = rejected_orders(press, len(view.request.orders))
    return ApprovalResponse(
        decisions=[
            OrderDecision(
                client_order_id=o.client_order_id,
                action=Action.REJECT if i in rejected else Action.APPROVE,
            )
            for i, o in enumerate(view.request.orders)
        ],
        decided_by=approver,
    )


def outcome_line(press: ButtonPress, approver: str, view: ThreadView) -> str:
    """What came of an applied press, in the step lines' words."""
    done = {
        ButtonAction.APPROVE: "Approved",
        ButtonAction.REJECT: "Rejected",
        ButtonAction.SEND: "Decided",
    }[press.action]
    parts = [f"{done} by {approver}"]
    if view.values.get("review"):
        parts.append(describe_update("review", {"review": view.values["review"]}))
    if view.values.get("executions") is not None or press.action is ButtonAction.APPROVE:
        parts.append(describe_update("executor", {"executions": view.values.get("executions")}))
    return ": ".join(parts[:2]) + "".join(f"; {p}" for p in parts[2:])


def doing_line(press: ButtonPress, orders: int) -> str:
    """The first answer to a press being applied: what is being done."""
    if press.action is ButtonAction.APPROVE:
        return "Approving every order"
    rejected = len(rejected_orders(press, orders))
    if rejected == orders:
        return "Rejecting every order"
    return f"Approving {orders - rejected} and rejecting {rejected} of the {orders} orders"


class TelegramApprovals:
    """The poller: reads button presses and applies them to the sessions of one service."""

    def __init__(
        self,
        bot: TelegramBot,
        sessions: SessionService,
        find: Callable[[str], Awaitable[str | None]],
        *,
        approvers: frozenset[int] = frozenset(),
        wait_s: int = 30,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Answer presses in `bot.config.chat_id` for the sessions of `sessions`.

        Args:
            bot: the Bot API client.
            sessions: the service's sessions (their guarded approval).
            find: the thread id of a button's key, or None.
            approvers: Telegram user ids allowed to press (empty: anyone in the chat).
            wait_s: how long one `getUpdates` waits for a press.
            sleep: waits between failed polls (a test passes its own).
        """
        self.bot = bot
        self.sessions = sessions
        self.find = find
        self.approvers = approvers
        self.wait_s = wait_s
        self.sleep = sleep
        self.offset: int | None = None
        self._deciding: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Poll until cancelled; never raises otherwise."""
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(self.offset, wait_s=self.wait_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = min(MAX_BACKOFF_S, 2.0**failures)
                detail = exc.detail if isinstance(exc, NotifyError) else type(exc).__name__
                log.warning(
                    "Telegram approvals: polling failed (%s); again in %.0f s", detail, delay
                )
                await self.sleep(delay)
                continue
            failures = 0
            for update in updates:
                self.offset = update.update_id + 1
                if update.callback_query is None:
                    continue
                try:
                    await self.handle(update.callback_query)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("Telegram approvals: a button press could not be handled")

    async def _answer(self, query: CallbackQuery, text: str) -> None:
        try:
            await self.bot.answer_callback_query(query.id, text)
        except NotifyError as exc:
            log.warning("Telegram approvals: the press was not answered: %s", exc.detail)

    async def handle(self, query: CallbackQuery) -> None:
        """Judge one press: refuse it, say it is decided already, or start applying it."""
        message = query.message
        if message is None or not chat_matches(message.chat, self.bot.config.chat_id):
            log.warning("Telegram approvals: a press from another chat was refused")
            await self._answer(query, NOT_THIS_CHAT)
            return
        if self.approvers and query.sender.id not in self.approvers:
            log.warning("Telegram approvals: a press by user %d was refused", query.sender.id)
            await self._answer(query, NOT_AN_APPROVER)
            return
        press = read_callback_data(query.data)
        if press is None:
            await self._answer(query, UNKNOWN_BUTTON)
            return
        thread_id = await self.find(press.key)
        if thread_id is None:
            await self._answer(query, NO_SESSION)
            return
        if thread_id in self._deciding:
            await self._answer(query, BEING_DECIDED)
            return
        try:
            view = await self.sessions.read(thread_id)
        except NotFoundError:
            await self._answer(query, NO_SESSION)
            return
        if not view.awaiting_approval or view.request is None:
            await self._answer(query, f"Already decided: {not_waiting_message(view)}")
            return
        orders = len(view.request.orders)
        if (press.index is not None and press.index >= orders) or any(
            i >= orders for i in press.rejected
        ):
            await self._answer(query, UNKNOWN_BUTTON)
            return
        if press.action is ButtonAction.FLIP:
            await self._flip(query, press, view)
            return
        approver = f"telegram:{query.sender.id}"
        self._deciding.add(thread_id)
        await self._answer(query, f"{doing_line(press, orders)} of {thread_id} as {approver}…")
        task = asyncio.create_task(self._apply(thread_id, press, view, approver, query))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flip(self, query: CallbackQuery, press: ButtonPress, view: ThreadView) -> None:
        """Redraw the buttons with one order's mark flipped; nothing is applied yet."""
        assert view.request is not None and press.index is not None and query.message is not None
        rejected = press.rejected ^ {press.index}
        lines = [line.describe() for line in order_lines(view.request)]
        keyboard = approval_keyboard(view.thread_id, lines, rejected)
        now = "rejected" if press.index in rejected else "approved"
        await self._answer(query, f"Order {press.index + 1} will be {now}; Send applies the marks")
        try:
            await self.bot.edit_message_reply_markup(
                query.message.chat.id, query.message.message_id, keyboard
            )
        except NotifyError as exc:
            log.warning("Telegram approvals: the buttons were not redrawn: %s", exc.detail)

    async def _apply(
        self,
        thread_id: str,
        press: ButtonPress,
        view: ThreadView,
        approver: str,
        query: CallbackQuery,
    ) -> None:
        try:
            finished = await self.sessions.approve(thread_id, response_for(press, view, approver))
            outcome = outcome_line(press, approver, finished)
        except (NotWaitingError, BusyError) as exc:
            outcome = f"Not applied, already decided: {exc}"
        except TraderError as exc:
            outcome = f"Not applied: {exc}"
        except Exception:
            log.exception("Telegram approvals: applying the answer to %s failed", thread_id)
            outcome = "Not applied: the service failed; its log has the details"
        finally:
            self._deciding.discard(thread_id)
        log.info("Telegram approvals: %s: %s", thread_id, outcome)
        assert query.message is not None
        text = f"{query.message.text or ''}\n\n{outcome}".strip()
        try:
            await self.bot.edit_message_text(query.message.chat.id, query.message.message_id, text)
        except NotifyError as exc:
            log.warning("Telegram approvals: the message was not updated: %s", exc.detail)

    async def drain(self, timeout_s: float) -> None:
        """Wait (a bounded time) for decisions being applied; cancel the ones still running."""
        await drain(self._tasks, timeout_s)


def guard_telegram_approvals(settings: Settings) -> None:
    """Refuse Telegram approvals on a real account with nobody named as an approver.

    Raises:
        ConfigurationError: `NOTIFY_TELEGRAM_APPROVALS` on `TRADING_MODE=kis-real` without
            `NOTIFY_TELEGRAM_APPROVERS` (anyone in the chat could trade the account).
    """
    if (
        settings.notify_telegram_approvals
        and settings.trading_mode is TradingMode.KIS_REAL
        and not settings.notify_telegram_approvers
    ):
        raise ConfigurationError(
            "Telegram approvals on a real account need NOTIFY_TELEGRAM_APPROVERS "
            "(the Telegram user ids allowed to approve)"
        )


def telegram_approvals(
    settings: Settings,
    sessions: SessionService,
    db_sessions: sessionmaker[Session],
) -> TelegramApprovals | None:
    """The poller the settings ask for, or None (`NOTIFY_TELEGRAM_APPROVALS` off, or no bot)."""
    if not settings.notify_telegram_approvals:
        return None
    config = telegram_config(settings)
    if config is None:
        log.warning(
            "Telegram approvals are off: NOTIFY_TELEGRAM_APPROVALS needs "
            "NOTIFY_TELEGRAM_BOT_TOKEN and NOTIFY_TELEGRAM_CHAT_ID"
        )
        return None
    guard_telegram_approvals(settings)
    bot = TelegramBot(config, policy=HttpPolicy(timeout_s=settings.notify_timeout_s))

    async def find(key: str) -> str | None:
        return await asyncio.to_thread(find_thread, db_sessions, key)

    return TelegramApprovals(
        bot,
        sessions,
        find,
        approvers=frozenset(settings.notify_telegram_approvers),
        wait_s=settings.notify_telegram_poll_s,
    )


@asynccontextmanager
async def running_telegram_approvals(
    settings: Settings,
    sessions: SessionService,
    db_sessions: sessionmaker[Session],
    *,
    drain_timeout_s: float = 30.0,
) -> AsyncIterator[TelegramApprovals | None]:
    """Run the poller (when the settings ask for it) for the life of the block.

    On exit polling stops; decisions being applied get `drain_timeout_s` to finish (a
    cancelled one leaves its session resumable, as Ctrl-C does in the terminal).
    """
    poller = telegram_approvals(settings, sessions, db_sessions)
    if poller is None:
        yield None
        return
    log.info("Telegram approvals: answering the buttons in the configured chat")
    task = asyncio.create_task(poller.run())
    try:
        yield poller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await poller.drain(drain_timeout_s)
        await poller.bot.aclose()
