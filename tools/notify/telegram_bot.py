"""The Bot API methods that answer button presses, and models of the updates they read.

The methods: `getUpdates`, `answerCallbackQuery`, `editMessageText`.

The bot learns of a press by long polling (`getUpdates` with an offset one past the last update
handled, so Telegram forgets what was handled and hands out each update until it is). The
token is in every URL, so it is masked in logs and errors as for `sendMessage`
(`tools.notify.http`). Errors are the notifiers' (`NotifyUnavailableError`: try later;
`NotifyRejectedError`: a setting is wrong, or Telegram refused this one call).
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.notify.errors import NotifyRejectedError
from tools.notify.http import HttpPolicy, JsonPoster
from tools.notify.telegram import CHANNEL, TelegramConfig, call_bot_api

_READ = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
ANSWER_TEXT_MAX = 200
"""Telegram's limit on an `answerCallbackQuery` text."""
MESSAGE_TEXT_MAX = 4096
"""Telegram's limit on a message's text."""


class TelegramUser(BaseModel):
    """Who pressed a button."""

    model_config = _READ
    id: int


class TelegramChat(BaseModel):
    """The chat a message is in."""

    model_config = _READ
    id: int
    username: str | None = None


class TelegramMessage(BaseModel):
    """The message a pressed button is under."""

    model_config = _READ
    message_id: int
    chat: TelegramChat
    text: str | None = None


class CallbackQuery(BaseModel):
    """A press of an inline-keyboard button."""

    model_config = _READ
    id: str
    sender: TelegramUser = Field(alias="from")
    message: TelegramMessage | None = None
    """None when the message is too old for Telegram to send along."""
    data: str | None = None


class Update(BaseModel):
    """One update; only button presses are asked for (`allowed_updates`)."""

    model_config = _READ
    update_id: int
    callback_query: CallbackQuery | None = None


class UpdatesAnswer(BaseModel):
    """The body of `getUpdates`."""

    model_config = _READ
    ok: bool
    result: list[Update] = Field(default_factory=list)


def chat_matches(chat: TelegramChat, configured: str) -> bool:
    """Whether `chat` is the configured chat (a numeric id, or ``@username`` of a channel)."""
    configured = configured.strip()
    if configured.startswith("@"):
        return chat.username is not None and chat.username.lower() == configured[1:].lower()
    return str(chat.id) == configured


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TelegramBot:
    """The bot's side of button presses: read them, answer them, rewrite their message."""

    channel = CHANNEL

    def __init__(
        self,
        config: TelegramConfig,
        *,
        policy: HttpPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Build the client; `transport` None means the real network."""
        self.config = config
        self._policy = policy or HttpPolicy()
        self._http = JsonPoster(
            channel=self.channel,
            secrets=(config.bot_token.get_secret_value(),),
            policy=self._policy,
            transport=transport,
        )

    async def _call(
        self, method: str, body: dict[str, Any], *, timeout_s: float | None = None
    ) -> dict[str, Any]:
        return await call_bot_api(self._http, self.config, method, body, timeout_s=timeout_s)

    async def get_updates(self, offset: int | None, *, wait_s: int) -> list[Update]:
        """The button presses after `offset` (waiting up to `wait_s` for one to come).

        Raises:
            NotifyUnavailableError: the Bot API was unreachable, slow or failing.
            NotifyRejectedError: it refused (a wrong token; a webhook set on the bot).
        """
        body: dict[str, Any] = {"timeout": wait_s, "allowed_updates": ["callback_query"]}
        if offset is not None:
            body["offset"] = offset
        payload = await self._call("getUpdates", body, timeout_s=wait_s + self._policy.timeout_s)
        try:
            return UpdatesAnswer.model_validate(payload).result
        except ValidationError:
            raise NotifyRejectedError(
                self.channel, "the Bot API answered getUpdates with an unreadable body"
            ) from None

    async def answer_callback_query(self, query_id: str, text: str) -> None:
        """Tell the presser what came of it (a short notice in their app).

        Raises:
            NotifyError: not delivered (the press still stands).
        """
        await self._call(
            "answerCallbackQuery",
            {"callback_query_id": query_id, "text": _cut(text, ANSWER_TEXT_MAX)},
        )

    async def edit_message_text(self, chat_id: int, message_id: int, text: str) -> None:
        """Replace a message's text; its buttons go (nothing is left to press).

        Raises:
            NotifyError: not edited.
        """
        await self._call(
            "editMessageText",
            {
                "chat_id": chat_id,
                "message_id": message_id,
                "text": _cut(text, MESSAGE_TEXT_MAX),
                "link_preview_options": {"is_disabled": True},
            },
        )

    async def edit_message_reply_markup(
        self, chat_id: int, message_id: int, reply_markup: dict[str, Any]
    ) -> None:
        """Replace a message's buttons (its text stays): the per-order marks after a flip.

        Raises:
            NotifyError: not edited.
        """
        await self._call(
            "editMessageReplyMarkup",
            {"chat_id": chat_id, "message_id": message_id, "reply_markup": reply_markup},
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()
