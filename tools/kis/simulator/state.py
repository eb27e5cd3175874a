"""Everything one running simulator holds, built from its config."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tools.kis.simulator.auth import TokenAuthority
from tools.kis.simulator.config import SimulatorConfig
from tools.kis.simulator.faults import FaultInjector, SimulatorStats
from tools.kis.simulator.market import SimMarket
from tools.kis.simulator.matching import Matcher
from tools.kis.simulator.orders import OrderDesk
from tools.kis.simulator.paging import CursorPages
from tools.kis.simulator.ratelimit import SlidingWindow
from tools.kis.simulator.replay import load_csv
from tools.kis.simulator.store import Order, Store


@dataclass
class SimulatorState:
    """The parts of one simulator; routes reach them through this object."""

    cfg: SimulatorConfig
    store: Store
    market: SimMarket
    auth: TokenAuthority
    limiter: SlidingWindow
    matcher: Matcher
    desk: OrderDesk
    faults: FaultInjector = field(default_factory=FaultInjector)
    stats: SimulatorStats = field(default_factory=SimulatorStats)
    cursors: CursorPages = field(default_factory=CursorPages)
    """Where keyless paged queries (news titles, statements) stopped."""
    stopping: threading.Event = field(default_factory=threading.Event)
    serial: threading.Lock = field(default_factory=threading.Lock)
    """Held while a request is processed: requests run one at a time, in worker threads."""

    def broker_orders(self) -> list[Order]:
        """Return every order the simulated broker holds, by order number."""
        return self.store.orders()


def build_state(cfg: SimulatorConfig, *, reset: bool = False) -> SimulatorState:
    """Open the store (wiping it if `reset`), open the account and set up the market."""
    store = Store(cfg.store_path)
    if reset:
        store.reset()
    store.open_account(cfg.account_no, cfg.account_product_code, cfg.starting_cash_krw)
    replay = tuple(load_csv(path) for path in cfg.replay_csv)
    market = SimMarket(
        cfg.seed,
        replay,
        always_open=cfg.always_open,
        synthetic=cfg.synthetic_instruments,
        actions=cfg.corporate_actions,
    )
    matcher = Matcher(cfg, store, market)
    return SimulatorState(
        cfg=cfg,
        store=store,
        market=market,
        auth=TokenAuthority(cfg, store),
        limiter=SlidingWindow(cfg.steady_rate_per_s, cfg.rate_limit_burst, cfg.monotonic),
        matcher=matcher,
        desk=OrderDesk(cfg, matcher),
    )
