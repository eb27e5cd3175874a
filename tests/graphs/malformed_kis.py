"""A transport that spoils the KIS answers about one ticker (a body the parser must refuse).

It wraps the real transport (the in-process simulator), lets every request through, and for
the chosen ticker and path rewrites a price field of the answer to a non-number, keeping the
envelope a success (`rt_cd` "0"): only the parser can notice.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

QUOTE_PATH = "/uapi/domestic-stock/v1/quotations/inquire-price"
CHART_PATH = "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice"
MULTI_PATH = "/uapi/domestic-stock/v1/quotations/intstock-multprice"


class MalformedFor(httpx.AsyncBaseTransport):
    """Answer `path` for `ticker` with a malformed price; everything else passes through."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, *, ticker: str, path: str, rows: bool = False
    ) -> None:
        """`rows`: spoil the chart's row list itself (a number instead of a list)."""
        self.inner = inner
        self.ticker = ticker
        self.path = path
        self.rows = rows
        self.spoiled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != self.path:
            return response
        asked = [v for k, v in request.url.params.items() if k.startswith("FID_INPUT_ISCD")]
        if self.ticker not in asked:
            return response
        body: dict[str, Any] = json.loads(await response.aread())
        if self.path == MULTI_PATH:
            # The multi-ticker quote answers one row per ticker: spoil only this ticker's row.
            (row,) = [r for r in body["output"] if r["inter_shrn_iscd"] == self.ticker]
            row["inter2_prpr"] = "12,3.4"
        elif self.path == CHART_PATH and self.rows:
            body["output2"] = 7
        elif self.path == CHART_PATH:
            body["output2"][0]["stck_clpr"] = "N/A"
        else:
            body["output"]["stck_prpr"] = "12,3.4"
        self.spoiled += 1
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, json=body)

    async def aclose(self) -> None:
        await self.inner.aclose()
