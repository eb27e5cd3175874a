"""Build a session's runtime context from settings: which market, broker, LLM and data sources.

The composition root: the one place that turns `Settings` into the `SessionContext` the graph's
nodes take (the venues are `trader.wiring.venue`):

Every venue reads daily history and KIS ratios from our database first (`datastore.readers`),
which the collector keeps current; quotes and orders go to the venue.

- `demo`: the built-in market. The KIS simulator runs in-process (an ASGI transport, no port)
  with its seeded market and its own store file, and it is also the broker, so the demo
  exercises the live KIS code path end to end. Its store lives in the data folder, so another
  process (`trader approve`) continues the same session against the same simulated broker.
  Economic data comes from the in-process econ twin.
- `kis-real` / `kis-virtual`: the KIS client on the configured account is market and broker.
- `paper`: quotes from KIS (real server, read-only) when KIS keys are set, otherwise from the
  built-in market; orders go to the paper broker, which fills against those quotes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

import httpx
from pydantic import SecretStr

from agents.context import SessionContext
from agents.llm import UsageMeter, build_chat_model, model_name_of
from agents.venue_hours import AlwaysOpen, KrxHours
from core.clock import Clock, SystemClock, kst_today
from datastore.collector import Collector
from datastore.readers import StoredCompanyFigures, StoredMarketData
from db.account_marker import guard_database
from db.engine import create_db_engine, session_factory
from graphs.recorder import DatabaseRecorder
from tools.broker import Broker
from tools.econ.dart import DartClient
from tools.econ.ecos import EcosClient
from tools.econ.fred import FredClient
from tools.econ.simulator.app import EconSimulator
from tools.econ.simulator.state import SimulatorKeys, SimulatorState
from tools.econ.snapshot import EconSnapshots
from tools.kis.broker import KISBroker
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.simulator import SimulatorConfig, create_app
from tools.krx.costs import CostModel
from tools.market_data import KISMarketData
from tools.paper import PaperBroker, PaperStore
from trader.settings import Settings, TradingMode
from trader.wiring.configs import (
    dart_client,
    ecos_client,
    fred_client,
    has_kis_keys,
    kis_config,
    llm_config,
)
from trader.wiring.venue import DEMO_STORE, PAPER_STORE, Venue, venue_for

DEMO_HOST = "http://kis-demo.invalid"
"""Origin of the in-process simulator (never resolved: the ASGI transport answers)."""


def demo_simulator_config(settings: Settings, clock: Clock) -> SimulatorConfig:
    """The demo market: the seeded simulator, always open, kept in the data folder."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SimulatorConfig(
        mode="real",
        starting_cash_krw=settings.starting_cash_krw,
        commission_rate=settings.commission_rate,
        store_path=settings.data_dir / DEMO_STORE,
        clock=clock,
        always_open=True,
    )


def demo_kis_config(settings: Settings, sim: SimulatorConfig) -> KISConfig:
    """The KIS client's config for an in-process simulator: its keys, account and rate limit."""
    return KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr(sim.app_key),
        app_secret=SecretStr(sim.app_secret),
        account_no=SecretStr(sim.account_no),
        account_product_code=sim.account_product_code,
        base_url=DEMO_HOST,
        token_cache_dir=settings.data_dir / "demo",
        reconcile_delay_s=0.2,
        rate_limit_per_s=sim.rate_limit_per_s,
    )


def _demo_kis_client(settings: Settings, clock: Clock) -> KISClient:
    sim = demo_simulator_config(settings, clock)
    return KISClient(
        demo_kis_config(settings, sim),
        transport=httpx.ASGITransport(app=create_app(sim)),
        clock=clock,
    )


def _live_kis_client(settings: Settings, clock: Clock) -> KISClient:
    # Paper with keys reads the real server's quotes; its orders never go there.
    paper = settings.trading_mode is TradingMode.PAPER
    config = kis_config(settings, mode=TradingMode.KIS_REAL if paper else None)
    return KISClient(config, clock=clock)


def kis_client_for(settings: Settings, *, demo: bool, clock: Clock | None = None) -> KISClient:
    """The KIS client a venue reads prices through: the demo market, or the configured account.

    Paper trading without KIS keys reads the demo market too. The caller closes the client.
    """
    clock = clock or SystemClock()
    if demo or (settings.trading_mode is TradingMode.PAPER and not has_kis_keys(settings)):
        return _demo_kis_client(settings, clock)
    return _live_kis_client(settings, clock)


def econ_source(settings: Settings, clock: Clock, stack: AsyncExitStack) -> EconSnapshots:
    """Real ECOS/FRED/OpenDART when all three keys are set, else the in-process twin."""
    keys = (settings.ecos_api_key, settings.fred_api_key, settings.dart_api_key)
    ecos: EcosClient
    fred: FredClient
    dart: DartClient
    if all(k is not None for k in keys):
        ecos, fred, dart = ecos_client(settings), fred_client(settings), dart_client(settings)
    else:
        twin = EconSimulator(SimulatorState(SimulatorKeys(), today=kst_today(clock)))
        urls = EconSimulator.base_urls()
        transport = twin.transport()
        sim_keys = SimulatorKeys()
        ecos = EcosClient(SecretStr(sim_keys.ecos), transport=transport, base_url=urls.ecos)
        fred = FredClient(SecretStr(sim_keys.fred), transport=transport, base_url=urls.fred)
        dart = DartClient(SecretStr(sim_keys.dart), transport=transport, base_url=urls.dart)
    for client in (ecos, fred, dart):
        stack.push_async_callback(client.aclose)
    return EconSnapshots(ecos, fred, dart)


def _assemble(
    settings: Settings, venue: Venue, clock: Clock, stack: AsyncExitStack
) -> SessionContext:
    """Build the context; synchronous because it touches files and opens stores and engines.

    Closers go on `stack` (the synchronous ones wrapped to run in a worker thread on exit).

    Raises:
        OtherDatabaseError: a real account whose marker names another database.
    """
    if venue.name == TradingMode.KIS_REAL.value:
        # Studio and the SDK come through here too: a real account's sessions stay in the
        # database its marker names, whatever folder the process runs from.
        guard_database(
            settings.state_dir, venue.account, settings.resolved_database_url, clock.now()
        )
    kis = kis_client_for(settings, demo=venue.demo, clock=clock)
    stack.push_async_callback(kis.aclose)
    live = KISMarketData(kis, news=kis.config.mode is Mode.REAL)
    engine = create_db_engine(settings.resolved_database_url)
    stack.push_async_callback(asyncio.to_thread, engine.dispose)
    sessions = session_factory(engine)
    # The data layer: history and KIS ratios from our database, kept current by the collector
    # (bars up to yesterday, ratios when a report can be new), quotes live.
    collector = Collector(
        kis,
        sessions,
        clock=clock,
        concurrency=settings.collect_concurrency,
        fundamentals_max_age=timedelta(days=settings.fundamentals_max_age_days),
    )
    figures = StoredCompanyFigures(collector)
    market = StoredMarketData(live, collector, on_quote=(figures.prepare,))
    cost_model = CostModel(commission_rate=settings.commission_rate)
    broker: Broker
    if settings.trading_mode is TradingMode.PAPER and not venue.demo:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = PaperStore(settings.data_dir / PAPER_STORE)
        stack.push_async_callback(asyncio.to_thread, store.close)
        broker = PaperBroker(
            live,
            store=store,
            clock=clock,
            cost_model=cost_model,
            starting_cash_krw=settings.starting_cash_krw,
            account=settings.portfolio,
        )
    else:
        broker = KISBroker(kis)
    llm = build_chat_model(llm_config(settings))
    return SessionContext(
        market=market,
        broker=broker,
        sessions=sessions,
        venue=venue.name,
        venue_server=venue.server,
        account_fingerprint=venue.account,
        portfolio=settings.portfolio,
        watchlist=settings.watchlist,
        starting_cash_krw=settings.starting_cash_krw,
        clock=clock,
        llm=llm,
        kis=kis,
        company_figures=figures,
        econ=econ_source(settings, clock, stack),
        limits=settings.risk_limits,
        cost_model=cost_model,
        usage=UsageMeter(
            model_name=model_name_of(llm) if llm else "",
            token_budget=settings.llm_token_budget,
        ),
        analyst_concurrency=settings.llm_max_concurrency,
        recorder=DatabaseRecorder(
            sessions,
            venue.identity,
            starting_cash_krw=settings.starting_cash_krw,
            clock=clock,
        ),
        venue_hours=AlwaysOpen() if venue.demo else KrxHours(),
        order_window_wait=timedelta(minutes=settings.order_window_wait_minutes),
    )


@asynccontextmanager
async def open_session_context(
    settings: Settings, *, demo: bool = False, clock: Clock | None = None
) -> AsyncIterator[SessionContext]:
    """Open every client a session needs; they close when the block exits.

    The assembly runs in a worker thread: it creates folders and opens SQLite stores and
    database engines, which must not block the event loop (`langgraph dev` fails a run that
    does, and other sessions served by the same loop would stall).
    """
    clock = clock or SystemClock()
    venue = venue_for(settings, demo=demo)
    async with AsyncExitStack() as stack:
        yield await asyncio.to_thread(_assemble, settings, venue, clock, stack)


def serves_demo(settings: Settings) -> bool:
    """Whether a context built without being told (Studio's) trades on the demo market.

    Paper trading without KIS keys has no quotes of its own: it uses the built-in market.
    """
    return settings.trading_mode is TradingMode.PAPER and not has_kis_keys(settings)
