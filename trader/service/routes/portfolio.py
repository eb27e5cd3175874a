"""`GET /api/portfolio`: cash, positions and P&L of the settings' portfolio."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from trader.service.models import PortfolioView
from trader.service.records import read_portfolio

router = APIRouter(tags=["portfolio"])


@router.get("/api/portfolio")
async def portfolio(request: Request) -> PortfolioView:
    """The portfolio's book in the database, valued at the last session's prices."""
    state = request.app.state
    return await asyncio.to_thread(read_portfolio, state.db_sessions, state.settings)
