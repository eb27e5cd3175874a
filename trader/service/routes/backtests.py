"""`GET /api/backtests`: the stored backtest runs, newest first."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request

from trader.service.models import BacktestRunView
from trader.service.records import MAX_BACKTESTS, read_backtests

router = APIRouter(tags=["backtests"])


@router.get("/api/backtests")
async def backtests(
    request: Request, limit: Annotated[int, Query(ge=1, le=MAX_BACKTESTS)] = 20
) -> list[BacktestRunView]:
    """Backtests saved with `trader backtest --save`, with their headline metrics."""
    sessions = request.app.state.db_sessions
    return await asyncio.to_thread(read_backtests, sessions, limit=limit)
