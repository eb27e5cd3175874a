"""The HTTP layer shared by the ECOS, FRED and OpenDART clients.

One `ServiceHttp` per client owns an `httpx.AsyncClient` built on an injected transport (the real
network, an in-process ASGI simulator, or a loopback server), turns network failures and HTTP
429/5xx into `EconUnavailableError`/`EconRateLimitError` with the key masked, and retries
queries with tenacity on `TemporaryError` only. Everything else (bad key, bad request, "no data")
is decided by the service parser and is not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

import httpx
from pydantic import SecretStr
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from core.errors import TemporaryError
from tools.econ.errors import (
    EconRateLimitError,
    EconResponseError,
    EconUnavailableError,
)
from tools.econ.redaction import protect_secret, redact

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a query is retried after a temporary failure.

    Attributes:
        attempts: total tries, the first included (1 = no retry).
        initial_wait_s: wait before the second try; doubles each time up to `max_wait_s`.
        max_wait_s: the longest single wait.
    """

    attempts: int = 3
    initial_wait_s: float = 0.5
    max_wait_s: float = 8.0


class ServiceHttp:
    """GET requests to one economic-data service, with redaction, translation and retries."""

    def __init__(
        self,
        *,
        service: str,
        base_url: str,
        api_key: SecretStr,
        transport: httpx.AsyncBaseTransport | None,
        timeout_s: float,
        retry: RetryPolicy,
    ) -> None:
        """Build the client.

        Args:
            service: the service's display name, used in errors and logs.
            base_url: root every request path is appended to.
            api_key: the key; unwrapped only to build request URLs.
            transport: where requests go; None means the real network.
            timeout_s: per-request timeout.
            retry: the retry policy for temporary failures.
        """
        self.service = service
        self._key = api_key
        protect_secret(api_key.get_secret_value())
        self._retry = retry
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport or httpx.AsyncHTTPTransport(),
            timeout=timeout_s,
            headers={"Accept": "application/json, application/xml, */*"},
        )

    @property
    def key(self) -> str:
        """The raw key, for the one place that writes it into a request."""
        return self._key.get_secret_value()

    def redact(self, text: str) -> str:
        """Mask this client's key in `text`."""
        return redact(text, self.key)

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """Send one GET and return the response, translating transport-level failures.

        HTTP 429 becomes `EconRateLimitError`, 5xx and network errors `EconUnavailableError`;
        any other status is returned for the service parser to judge.
        """
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise EconUnavailableError(self.service, "timeout", self.redact(str(exc))) from None
        except httpx.TransportError as exc:
            detail = self.redact(f"{type(exc).__name__}: {exc}")
            raise EconUnavailableError(self.service, "network", detail) from None
        logger.debug(
            "%s GET %s -> %d", self.service, self.redact(str(response.url)), response.status_code
        )
        if response.status_code == 429:
            raise EconRateLimitError(self.service, "http-429", "too many requests")
        if response.status_code >= 500:
            raise EconUnavailableError(
                self.service, f"http-{response.status_code}", response.reason_phrase
            )
        return response

    def json(self, response: httpx.Response) -> Any:
        """Decode a JSON body or raise `EconResponseError` (without quoting the URL)."""
        try:
            return response.json()
        except ValueError:
            snippet = self.redact(response.text[:80])
            raise EconResponseError(
                self.service, "malformed", f"HTTP {response.status_code}, not JSON: {snippet!r}"
            ) from None

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one query, retrying it on `TemporaryError` as the policy allows."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=wait_exponential(
                multiplier=self._retry.initial_wait_s, max=self._retry.max_wait_s
            ),
            retry=retry_if_exception_type(TemporaryError),
            before_sleep=self._log_retry,
            reraise=True,
        )
        return await retrying(operation)

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "%s query failed (attempt %d), retrying: %s", self.service, state.attempt_number, error
        )

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._client.aclose()


class ServiceClient:
    """What the ECOS, FRED and OpenDART clients share: the HTTP layer and closing.

    Subclasses name their service and default host; the shell hands each its key and host
    (`trader.wiring.configs.econ_clients`). Use a client as an async context manager, or call
    `aclose()`.
    """

    SERVICE: ClassVar[str]
    DEFAULT_BASE_URL: ClassVar[str]
    DEFAULT_TIMEOUT_S: ClassVar[float] = 30.0

    def __init__(
        self,
        api_key: SecretStr,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str | None = None,
        timeout_s: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Build the client.

        Args:
            api_key: the service's key; never logged, masked in every message.
            transport: where requests go (None = the real network).
            base_url: override of the service's official host (e.g. the simulator).
            timeout_s: per-request timeout (default: the service's own).
            retry: retry policy for temporary failures.
        """
        self._http = ServiceHttp(
            service=self.SERVICE,
            base_url=base_url or self.DEFAULT_BASE_URL,
            api_key=api_key,
            transport=transport,
            timeout_s=timeout_s or self.DEFAULT_TIMEOUT_S,
            retry=retry or RetryPolicy(),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
