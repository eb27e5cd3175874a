"""Notifications: tell the trader about a session where they are (Telegram, a chat webhook).

- `events`: what there is to tell, as typed models, each rendering its own message text.
- `base`: the `Notifier` contract, the one that does nothing (the default) and a fan-out.
- `telegram` and `webhook`: the two HTTP notifiers (Bot API `sendMessage`; a Slack-compatible
  incoming webhook), sharing `http` (timeouts, a bounded retry on connection failures,
  secrets masked in every log line and error).
- `dispatch`: the one place failures are swallowed: a notification never fails a session.
"""

from tools.notify.base import FanOut, Notifier, NullNotifier
from tools.notify.dispatch import Dispatcher
from tools.notify.errors import NotifyError, NotifyRejectedError, NotifyUnavailableError
from tools.notify.events import (
    Event,
    FillLine,
    Fills,
    NeedsReviewEvent,
    OrderLine,
    PendingApproval,
    ScheduledRunFailed,
    SessionHalted,
)
from tools.notify.telegram import TelegramConfig, TelegramNotifier
from tools.notify.webhook import WebhookNotifier

__all__ = [
    "Dispatcher",
    "Event",
    "FanOut",
    "FillLine",
    "Fills",
    "NeedsReviewEvent",
    "Notifier",
    "NotifyError",
    "NotifyRejectedError",
    "NotifyUnavailableError",
    "NullNotifier",
    "OrderLine",
    "PendingApproval",
    "ScheduledRunFailed",
    "SessionHalted",
    "TelegramConfig",
    "TelegramNotifier",
    "WebhookNotifier",
]
