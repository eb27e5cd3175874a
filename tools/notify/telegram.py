"""Telegram: a message from a bot to one chat, through the Bot API's `sendMessage`.

The bot token is part of the URL path (``/bot<token>/sendMessage``), so it is masked in every
log line and error (`tools.notify.http`). The base URL is a setting so a test (or a Bot API
server of one's own) can stand in for ``https://api.telegram.org``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from tools.notify.approval_buttons import approval_keyboard
from tools.notify.errors import NotifyRejectedError
from tools.notify.events import Event, PendingApproval
from tools.notify.http import HttpPolicy, JsonPoster

DEFAULT_BASE_URL = "https://api.telegram.org"
CHANNEL = "telegram"
"""The channel name in logs and errors."""


@dataclass(frozen=True)
class TelegramConfig:
    """Which bot speaks, to which chat, through which server."""

    bot_token: SecretStr
    chat_id: str
    base_url: str = DEFAULT_BASE_URL
    approval_buttons: bool = False
    """Put approve / reject buttons under a pending approval (`tools.notify.approval_buttons`);
    only worth it when something answers their presses (`trader serve`'s Telegram approvals)."""

    def bot_url(self, method: str) -> str:
        """The Bot API URL of `method`; it carries the token, so it is never logged or quoted."""
        token = self.bot_token.get_secret_value()
        return f"{self.base_url.rstrip('/')}/bot{token}/{method}"


async def call_bot_api(
    http: JsonPoster,
    config: TelegramConfig,
    method: str,
    body: dict[str, Any],
    *,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Call one Bot API method; return its answer when Telegram says it is `ok`.

    The one reading of a Bot API answer, for the notifier and the approvals' bot alike.

    Raises:
        NotifyUnavailableError: the Bot API was unreachable, slow or failing.
        NotifyRejectedError: the Bot API refused the call (wrong token or chat), or answered
            something that is not an `ok` object.
    """
    response = await http.post(config.bot_url(method), body, timeout_s=timeout_s)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or payload.get("ok") is not True:
        raise NotifyRejectedError(CHANNEL, f"the Bot API did not answer ok to {method}")
    return payload


class TelegramNotifier:
    """Sends each event's text to one Telegram chat."""

    channel = CHANNEL

    def __init__(
        self,
        config: TelegramConfig,
        *,
        policy: HttpPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Build the notifier; `transport` None means the real network."""
        self._config = config
        self._http = JsonPoster(
            channel=self.channel,
            secrets=(config.bot_token.get_secret_value(),),
            policy=policy or HttpPolicy(),
            transport=transport,
        )

    async def send(self, event: Event) -> None:
        """Send the event's text as a plain message (no markup to escape, no link preview).

        A pending approval gets approve / reject buttons when the config asks for them.

        Raises:
            NotifyUnavailableError: the Bot API was unreachable, slow or failing.
            NotifyRejectedError: the Bot API refused the message (wrong token or chat).
        """
        body: dict[str, Any] = {
            "chat_id": self._config.chat_id,
            "text": event.text(),
            "link_preview_options": {"is_disabled": True},
        }
        if self._config.approval_buttons and isinstance(event, PendingApproval):
            lines = [o.describe() for o in event.orders]
            body["reply_markup"] = approval_keyboard(event.thread_id, lines)
        await call_bot_api(self._http, self._config, "sendMessage", body)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()
