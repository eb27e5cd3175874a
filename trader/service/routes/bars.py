"""`GET /api/bars/{ticker}`: daily bars of one ticker, for the dashboard's price chart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from tools.market_data import Bar
from trader.service.sessions import SessionService

router = APIRouter(tags=["bars"])

MAX_DAYS = 250


@router.get("/api/bars/{ticker}")
async def bars(
    request: Request,
    ticker: Annotated[str, Path(pattern=r"^[0-9A-Z]{6}$", description="A KRX ticker.")],
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="How many sessions.")] = 60,
) -> list[Bar]:
    """Up to `days` daily bars ending today, oldest first, from the market sessions read."""
    service: SessionService = request.app.state.sessions
    return await service.bars(ticker, days)
