"""The plumbing shared by the client's call groups: retries, output parsing, paging."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from core.clock import Clock
from tools.kis import endpoints as ep
from tools.kis import responses
from tools.kis.config import KISConfig
from tools.kis.errors import KISQueryAgainError, KISTemporaryError
from tools.kis.fields import parse_model, parse_rows
from tools.kis.http import KISHttp, KISResponse
from tools.kis.ratelimit import RateLimiter

log = logging.getLogger("tools.kis.client")

MAX_PAGES = 200
"""A guard against a server that never says \"last page\"."""
QUERY_AGAIN_RESTARTS = 3
"""How many times a paged query starts over after SYDB0050 before the error is raised."""

M = TypeVar("M", bound=BaseModel)


def ymd(day: date) -> str:
    """Format a date the KIS way (YYYYMMDD)."""
    return day.strftime("%Y%m%d")


class ClientCore:
    """Owns the request core and offers retried queries, typed outputs and paging."""

    def __init__(
        self,
        config: KISConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Create the client; nothing is sent until the first call."""
        self.config = config
        self.http = KISHttp(config, transport=transport, clock=clock, limiter=limiter, sleep=sleep)
        self.clock = self.http.clock
        self._sleep = sleep

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections (the token stays cached)."""
        await self.http.aclose()

    # --- plumbing ---------------------------------------------------------------------------

    async def _query(
        self,
        endpoint: ep.Endpoint,
        params: dict[str, str],
        tr_cont: str = "",
    ) -> KISResponse:
        """Send a query, retrying temporary failures with exponential back-off."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.query_attempts),
            wait=wait_exponential(
                multiplier=self.config.retry_wait_s, max=8 * self.config.retry_wait_s or 0
            ),
            # SYDB0050 voids the page keys: `_pages` starts over instead of resending them.
            retry=retry_if_exception_type(KISTemporaryError)
            & retry_if_not_exception_type(KISQueryAgainError),
            sleep=self._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self.http.call(endpoint, params=params, tr_cont=tr_cont)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _output(self, endpoint: ep.Endpoint, params: dict[str, str], model: type[M]) -> M:
        response = await self._query(endpoint, params)
        return parse_model(
            model, response.body.get("output"), tr_id=self.http.tr_id(endpoint), where="output"
        )

    async def _output_rows(
        self, endpoint: ep.Endpoint, params: dict[str, str], model: type[M]
    ) -> list[M]:
        response = await self._query(endpoint, params)
        return parse_rows(
            model, response.body.get("output"), tr_id=self.http.tr_id(endpoint), where="output"
        )

    async def _pages(
        self,
        endpoint: ep.Endpoint,
        params: dict[str, str],
        *,
        fk: str = "CTX_AREA_FK100",
        nk: str = "CTX_AREA_NK100",
    ) -> list[dict[str, Any]]:
        """Fetch every page of a tr_cont-paged query; returns the bodies in order.

        When KIS answers SYDB0050 ("the data changed since your query, query again") the pages
        read so far are dropped and the query starts over from the first page, at most
        `QUERY_AGAIN_RESTARTS` times; then the error (temporary) is raised.
        """
        restarts = 0
        while True:
            try:
                return await self._all_pages(endpoint, params, fk, nk)
            except KISQueryAgainError:
                restarts += 1
                if restarts > QUERY_AGAIN_RESTARTS:
                    raise
                log.info("KIS %s: the data changed between pages; asking again", endpoint.name)
                await self._sleep(self.config.retry_wait_s)

    async def _all_pages(
        self, endpoint: ep.Endpoint, params: dict[str, str], fk: str, nk: str
    ) -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        page_params = dict(params) | {fk: "", nk: ""}
        tr_cont = ""
        for _ in range(MAX_PAGES):
            response = await self._query(endpoint, page_params, tr_cont)
            bodies.append(response.body)
            if not response.has_more:
                return bodies
            next_fk, next_nk = responses.continuation(response.body)
            page_params = page_params | {fk: next_fk, nk: next_nk}
            tr_cont = "N"
        log.warning("KIS %s: stopped after %d pages", endpoint.name, MAX_PAGES)
        return bodies

    async def _keyless_pages(
        self, endpoint: ep.Endpoint, params: dict[str, str], max_pages: int = MAX_PAGES
    ) -> list[dict[str, Any]]:
        """Fetch the pages of a query continued by tr_cont alone (news titles, statements).

        The same query is sent again with request header ``tr_cont: N`` while the answer's
        tr_cont says more follows (F or M); KIS remembers where the last page ended.
        """
        bodies: list[dict[str, Any]] = []
        tr_cont = ""
        for _ in range(max_pages):
            response = await self._query(endpoint, params, tr_cont)
            bodies.append(response.body)
            if not response.has_more:
                return bodies
            tr_cont = "N"
        log.warning("KIS %s: stopped after %d pages", endpoint.name, max_pages)
        return bodies

    async def _paged_rows(
        self, endpoint: ep.Endpoint, params: dict[str, str], model: type[M], max_pages: int
    ) -> list[M]:
        tr_id = self.http.tr_id(endpoint)
        rows: list[M] = []
        for body in await self._keyless_pages(endpoint, params, max_pages):
            rows += parse_rows(model, body.get("output"), tr_id=tr_id, where="output")
        return rows
