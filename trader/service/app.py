"""The app factory: settings checked, database migrated, routes and error handlers installed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from core.clock import Clock, SystemClock
from db import migrate
from db.engine import create_db_engine, session_factory
from trader import __version__
from trader.service import errors
from trader.service.auth import policy_for, require_token
from trader.service.routes import (
    backtests,
    bars,
    dashboard,
    health,
    orders,
    portfolio,
    sessions,
)
from trader.service.sessions import SessionService
from trader.service.telegram_approvals import (
    guard_telegram_approvals,
    running_telegram_approvals,
)
from trader.settings import Settings

DRAIN_S = 30.0
"""How long a stopping service lets handed-over approvals follow their fills."""


def create_app(
    settings: Settings, *, clock: Callable[[], Clock] = SystemClock, demo: bool = False
) -> FastAPI:
    """Build the API on `settings`; `clock()` is the clock each session runs on.

    With `demo`, a triggered session trades on the built-in market (as `trader demo`);
    approvals continue every session on the venue it started on.

    Raises:
        ConfigurationError: a real account without `SERVICE_AUTH_TOKEN`, or on another database
            than its marker names, or with Telegram approvals but no approver named. Nothing
            is served then.
    """
    policy = policy_for(settings)
    service = SessionService(settings, clock, demo=demo)
    service.guard_real_database()
    guard_telegram_approvals(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate.upgrade, settings.resolved_database_url)
        engine = create_db_engine(settings.resolved_database_url)
        app.state.db_sessions = session_factory(engine)
        try:
            async with running_telegram_approvals(settings, service, app.state.db_sessions):
                yield
            await service.drain(DRAIN_S)
        finally:
            await asyncio.to_thread(engine.dispose)

    app = FastAPI(
        title="Market Auto Trader",
        version=__version__,
        summary="Trigger sessions, read their signals and orders, answer their approvals.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.policy = policy
    app.state.sessions = service
    errors.install(app)
    app.include_router(health.router)
    app.include_router(dashboard.router)
    for module in (portfolio, sessions, orders, bars, backtests):
        app.include_router(module.router, dependencies=[Depends(require_token)])
    return app
