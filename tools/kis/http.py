"""The request core: one place that paces, authenticates, sends and reads every KIS call.

For each call it waits for the account's rate-limit slot, adds the KIS headers (token, app key and
secret, TR ID, customer type, continuation flag), sends through the injected httpx transport and
turns the answer into a body or a typed error. Two recoveries happen here because they are safe
for every call, orders included, since KIS refused the request without processing it:

- EGW00201 (rate limit): push the account's limiter back and send again (`rate_limit_retries`).
- EGW00123/EGW00121 (token expired or revoked): renew the token once and send again.

Everything else (timeouts, 5xx) is raised for the caller: the client retries queries, and asks
the broker before doing anything more about an order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from core.clock import Clock, SystemClock
from tools.kis.auth import TokenManager
from tools.kis.config import KISConfig
from tools.kis.endpoints import TOKEN, Endpoint
from tools.kis.errors import (
    KISConfigurationError,
    KISOperationalError,
    KISRateLimitError,
    KISResponseError,
    KISServerError,
    KISTimeoutError,
    KISTokenError,
)
from tools.kis.fields import parse_model
from tools.kis.masking import MASKER, install_log_masking
from tools.kis.models_auth import TokenResponse
from tools.kis.ratelimit import RateLimiter
from tools.kis.responses import envelope_error

log = logging.getLogger(__name__)

LOGGERS = ("httpx", "tools.kis.http", "tools.kis.auth", "tools.kis.client", "tools.kis.broker")


@dataclass(frozen=True, slots=True)
class KISResponse:
    """A successful answer: the decoded body and the continuation header."""

    body: dict[str, Any]
    tr_cont: str
    status: int

    @property
    def has_more(self) -> bool:
        """Whether KIS says another page follows (response tr_cont F or M)."""
        return self.tr_cont in {"F", "M"}


class KISHttp:
    """Sends KIS requests for one account."""

    def __init__(
        self,
        config: KISConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rate_limit_retries: int = 8,
        rate_limit_backoff_s: float = 1.0,
    ) -> None:
        """Create the core.

        Args:
            config: the account and its limits.
            transport: the httpx transport (a real one, `httpx.MockTransport`, `ASGITransport`).
            clock: wall-clock time for the token; defaults to the system clock.
            limiter: the account's limiter; defaults to the process-wide one for the app key.
            sleep: async sleep for back-offs (injected in tests).
            rate_limit_retries: how many times one call is resent after EGW00201.
            rate_limit_backoff_s: how far EGW00201 pushes the account's next slot back.
        """
        self.config = config
        self.clock = clock or SystemClock()
        self.limiter = limiter or RateLimiter.shared(config.key_fingerprint, config.paced_rate)
        self._sleep = sleep
        self._rate_limit_retries = rate_limit_retries
        self._rate_limit_backoff_s = rate_limit_backoff_s
        MASKER.add(*config.secrets())
        install_log_masking(*LOGGERS)
        self._client = httpx.AsyncClient(
            base_url=config.resolved_base_url,
            transport=transport,
            timeout=config.timeout_s,
        )
        self.tokens = TokenManager(config, self.issue_token, self.clock, sleep=sleep)
        self.sent = 0
        """Requests sent through the limiter (resends after EGW00201 included)."""
        self.rate_limited = 0
        """EGW00201 answers received: a paced client should see none."""

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    def tr_id(self, endpoint: Endpoint) -> str:
        """Return the TR ID of `endpoint` for this account's server.

        Raises:
            KISConfigurationError: the virtual server does not offer this call.
        """
        tr_id = endpoint.tr_id(self.config.mode, old=self.config.use_old_tr_ids)
        if tr_id is None:
            raise KISConfigurationError(
                f"KIS {endpoint.name} is not offered on the virtual (모의투자) server",
                tr_id=endpoint.tr_real,
            )
        return tr_id

    # --- /oauth2 ----------------------------------------------------------------------------

    async def oauth(self, endpoint: Endpoint, body: dict[str, str]) -> dict[str, Any]:
        """POST to an /oauth2 or /uapi/hashkey endpoint (no token, no rt_cd envelope)."""
        headers = {"content-type": "application/json; charset=utf-8"}
        if endpoint.path == "/uapi/hashkey":
            headers |= self._key_headers()
        response = await self._send("POST", endpoint.path, None, headers, json=body, params=None)
        return response.body

    async def issue_token(self) -> TokenResponse:
        """Call /oauth2/tokenP (the token manager decides when)."""
        body = await self.oauth(
            TOKEN,
            {
                "grant_type": "client_credentials",
                "appkey": self.config.app_key.get_secret_value(),
                "appsecret": self.config.app_secret.get_secret_value(),
            },
        )
        token = parse_model(TokenResponse, body, tr_id=None, where="<body>")
        MASKER.add(token.access_token.get_secret_value())
        return token

    # --- /uapi ------------------------------------------------------------------------------

    async def call(
        self,
        endpoint: Endpoint,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, str] | None = None,
        tr_cont: str = "",
    ) -> KISResponse:
        """Send one authenticated call; renew the token once if KIS says it is dead.

        Raises:
            KISError: a subclass saying what to do (see `tools.kis.errors`).
        """
        tr_id = self.tr_id(endpoint)
        renewed = False
        while True:
            token = await self.tokens.token()
            headers = self._key_headers() | {
                "content-type": "application/json; charset=utf-8",
                "authorization": f"Bearer {token}",
                "tr_id": tr_id,
                "custtype": self.config.custtype,
                "tr_cont": tr_cont,
            }
            try:
                return await self._send(
                    endpoint.method,
                    endpoint.path,
                    tr_id,
                    headers,
                    json=body,
                    params=params,
                    is_order=endpoint.is_order,
                )
            except KISTokenError:
                if renewed:
                    raise
                renewed = True
                log.info("KIS %s: token expired or revoked; renewing once", tr_id)
                await self.tokens.invalidate(token)

    def _key_headers(self) -> dict[str, str]:
        return {
            "appkey": self.config.app_key.get_secret_value(),
            "appsecret": self.config.app_secret.get_secret_value(),
        }

    async def _send(
        self,
        method: str,
        path: str,
        tr_id: str | None,
        headers: dict[str, str],
        *,
        json: dict[str, str] | None,
        params: dict[str, str] | None,
        is_order: bool = False,
    ) -> KISResponse:
        attempt = 0
        while True:
            await self.limiter.acquire()
            self.sent += 1
            try:
                return await self._send_once(
                    method, path, tr_id, headers, json=json, params=params, is_order=is_order
                )
            except KISRateLimitError:
                attempt += 1
                self.rate_limited += 1
                self.limiter.penalize(self._rate_limit_backoff_s)
                if attempt > self._rate_limit_retries:
                    raise
                log.warning("KIS %s: rate limited (EGW00201), backing off", tr_id or path)

    async def _send_once(
        self,
        method: str,
        path: str,
        tr_id: str | None,
        headers: dict[str, str],
        *,
        json: dict[str, str] | None,
        params: dict[str, str] | None,
        is_order: bool,
    ) -> KISResponse:
        name = tr_id or path
        try:
            response = await self._client.request(
                method, path, headers=headers, json=json, params=params
            )
        except httpx.TimeoutException as exc:
            raise KISTimeoutError(
                f"KIS {name}: no answer within {self.config.timeout_s} s", tr_id=tr_id
            ) from exc
        except httpx.TransportError as exc:
            raise KISServerError(
                f"KIS {name}: connection failed ({type(exc).__name__})", tr_id=tr_id
            ) from exc
        log.debug("KIS %s %s %s -> HTTP %d", method, path, tr_id or "", response.status_code)
        status = response.status_code
        try:
            body = response.json()
        except ValueError as exc:
            if status >= 500:
                raise KISServerError(
                    f"KIS {name}: HTTP {status} without a JSON body",
                    tr_id=tr_id,
                    http_status=status,
                ) from exc
            raise KISResponseError(
                f"KIS {name}: the body is not JSON (HTTP {status})", tr_id=tr_id, field="<body>"
            ) from exc
        error = envelope_error(
            body, tr_id=tr_id, http_status=status, is_order=is_order, mask=MASKER.mask
        )
        if error is not None:
            raise error
        if status >= 500:
            raise KISServerError(f"KIS {name}: HTTP {status}", tr_id=tr_id, http_status=status)
        if status == 401:
            raise KISTokenError(f"KIS {name}: HTTP 401", tr_id=tr_id, http_status=status)
        if status >= 400:
            raise KISOperationalError(f"KIS {name}: HTTP {status}", tr_id=tr_id, http_status=status)
        return KISResponse(
            body=body, tr_cont=response.headers.get("tr_cont", "").strip(), status=status
        )


__all__ = ["KISHttp", "KISResponse"]
