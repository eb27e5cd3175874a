"""`GET /api/health`: open to anyone (a load balancer's probe); says nothing secret."""

from __future__ import annotations

from fastapi import APIRouter, Request

from trader import __version__
from trader.service.models import Health

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(request: Request) -> Health:
    """The service is up."""
    return Health(version=__version__, trading_mode=request.app.state.settings.trading_mode.value)
