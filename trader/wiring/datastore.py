"""Build the collector `trader data collect` runs, from settings: KIS client, database, econ.

The same venue rule as a session's (`trader.wiring.context`): the built-in market when asked
(`demo`) or when paper trading has no KIS keys, else the configured KIS account; ECOS, FRED and
OpenDART when their keys are set, else the in-process econ twin.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from core.clock import Clock, SystemClock
from core.errors import ConfigurationError
from datastore.collector import Collector
from db.engine import create_db_engine, session_factory
from tools.kis.simulator.instruments import DEFAULT_UNIVERSE
from trader.settings import Settings
from trader.wiring.context import econ_source, kis_client_for, serves_demo


@asynccontextmanager
async def open_collector(
    settings: Settings, *, demo: bool = False, clock: Clock | None = None
) -> AsyncIterator[Collector]:
    """Open the collector's clients and database; they close when the block exits."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        kis = kis_client_for(settings, demo=demo or serves_demo(settings), clock=clock)
        stack.push_async_callback(kis.aclose)
        engine = await asyncio.to_thread(create_db_engine, settings.resolved_database_url)
        stack.push_async_callback(asyncio.to_thread, engine.dispose)
        yield Collector(
            kis,
            session_factory(engine),
            clock=clock,
            econ=econ_source(settings, clock, stack),
            concurrency=settings.collect_concurrency,
            fundamentals_max_age=timedelta(days=settings.fundamentals_max_age_days),
        )


async def listed_tickers(collector: Collector, *, demo: bool) -> list[str]:
    """Every listed ticker (the `--universe`), sorted.

    The built-in market lists its own instruments; otherwise OpenDART's company directory
    names every listed company.

    Raises:
        ConfigurationError: there is no econ source to ask.
    """
    if demo:
        return sorted(i.ticker for i in DEFAULT_UNIVERSE)
    if collector.econ is None:
        raise ConfigurationError("--universe needs OpenDART (DART_API_KEY) or the econ twin")
    directory = await collector.econ.dart.corp_codes()
    return sorted(directory.ticker_map())
