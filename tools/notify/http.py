"""The HTTP layer of the notifiers: one JSON POST, with a timeout, a bounded retry and redaction.

Both notifiers carry their secret in the URL (Telegram's bot token in the path, a webhook's
whole URL), so the URL is never logged or quoted: every secret is registered with the logging
filter on the ``httpx`` logger (`tools.econ.redaction.protect_secret`) and removed from the text
of every error and log line built here.

Only a connection that could not be made is retried (the message cannot have arrived): a
timeout while waiting for the answer, or an answer, is not, so a slow service never gets the
same message twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from tools.econ.redaction import protect_secret, redact
from tools.notify.errors import NotifyRejectedError, NotifyUnavailableError

logger = logging.getLogger(__name__)

RETRIED = (httpx.ConnectError, httpx.ConnectTimeout)
"""Failures before the request was sent: safe to try again."""


@dataclass(frozen=True)
class HttpPolicy:
    """How long to wait for a notification service and how often to try to reach it.

    Attributes:
        timeout_s: per-request timeout (connect, read and write each).
        attempts: total tries when the connection fails, the first included (1 = no retry).
        initial_wait_s: wait before the second try; doubles each time up to `max_wait_s`.
        max_wait_s: the longest single wait.
    """

    timeout_s: float = 5.0
    attempts: int = 2
    initial_wait_s: float = 0.5
    max_wait_s: float = 2.0


class JsonPoster:
    """POSTs JSON bodies to one service, translating failures into `NotifyError`s."""

    def __init__(
        self,
        *,
        channel: str,
        secrets: tuple[str, ...],
        policy: HttpPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Build the client.

        Args:
            channel: ``telegram`` or ``webhook``, for errors and logs.
            secrets: every secret the URLs carry; masked wherever text is built.
            policy: timeout and retry.
            transport: where requests go; None means the real network.
        """
        self.channel = channel
        self._secrets = secrets
        for secret in secrets:
            protect_secret(secret)
        self._policy = policy
        self._client = httpx.AsyncClient(
            transport=transport or httpx.AsyncHTTPTransport(),
            timeout=policy.timeout_s,
            follow_redirects=False,
        )

    def redact(self, text: str) -> str:
        """Mask this client's secrets in `text`."""
        return redact(text, *self._secrets)

    async def post(
        self, url: str, body: dict[str, Any], *, timeout_s: float | None = None
    ) -> httpx.Response:
        """POST `body` as JSON to `url` and return a 2xx response.

        `timeout_s` replaces the policy's timeout for this request (a long poll waits longer).

        Raises:
            NotifyUnavailableError: no connection (after the retries), a timeout, 5xx or 429.
            NotifyRejectedError: any other status outside 2xx.
        """
        policy = self._policy
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(1, policy.attempts)),
            wait=wait_exponential(multiplier=policy.initial_wait_s, max=policy.max_wait_s),
            retry=retry_if_exception_type(RETRIED),
            reraise=True,
        )
        response: httpx.Response | None = None
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._client.post(
                        url,
                        json=body,
                        timeout=self._policy.timeout_s if timeout_s is None else timeout_s,
                    )
        except httpx.TimeoutException as exc:
            detail = self.redact(f"timeout ({type(exc).__name__})")
            raise NotifyUnavailableError(self.channel, detail) from None
        except httpx.HTTPError as exc:
            detail = self.redact(f"{type(exc).__name__}: {exc}")
            raise NotifyUnavailableError(self.channel, detail) from None
        assert response is not None  # tenacity re-raises the last failure
        status = response.status_code
        logger.debug("%s notification -> HTTP %d", self.channel, status)
        if status == 429 or status >= 500:
            raise NotifyUnavailableError(self.channel, f"HTTP {status}")
        if not 200 <= status < 300:
            reason = self.redact(_short(response.text))
            raise NotifyRejectedError(self.channel, f"HTTP {status}: {reason}")
        return response

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
