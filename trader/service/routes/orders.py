"""`GET /api/orders`: orders and their fills, newest first."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request

from trader.service.models import OrderView
from trader.service.records import MAX_ORDERS, read_orders

router = APIRouter(tags=["orders"])


@router.get("/api/orders")
async def orders(
    request: Request,
    thread_id: Annotated[str | None, Query(description="Only this session's orders.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ORDERS)] = 100,
) -> list[OrderView]:
    """Orders recorded in the database, each with its fills."""
    sessions = request.app.state.db_sessions
    return await asyncio.to_thread(read_orders, sessions, thread_id=thread_id, limit=limit)
