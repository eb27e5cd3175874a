"""Configuration of the KIS simulator: which server it imitates, whose account it opens, its limits.

The shell starts the simulator with the same settings as the live client
(`trader.wiring.configs.simulator_config`), so the client can point `KIS_BASE_URL` at it and use
its usual app key, secret and account number. When those are unset the documented demo values
below are used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from core.clock import Clock, SystemClock
from tools.kis.simulator.corporate import CorporateAction
from tools.krx.costs import DEFAULT_COMMISSION_RATE

Mode = Literal["real", "virtual"]

DEMO_APP_KEY = "PSsimDEMOappKEY".ljust(36, "0")
"""A 36-character app key (the length KIS issues) accepted when no KIS_APP_KEY is configured."""
DEMO_APP_SECRET = ("SIMdemoSECRET" * 14)[:180]
"""A 180-character app secret (the length KIS issues) paired with `DEMO_APP_KEY`."""
DEMO_ACCOUNT_NO = "12345678"
"""The 8-digit CANO of the demo account (the masked number of the KIS samples)."""

REAL_RATE_LIMIT_PER_S = 18.0
"""REST requests per second on a real account (KIS notice of 2026-04-20)."""
VIRTUAL_RATE_LIMIT_PER_S = 1.0
"""REST requests per second on a virtual (모의투자) account (same notice)."""
TOKEN_LIFETIME_S = 86_400
"""Access tokens live 24 hours."""
TOKEN_REUSE_WINDOW_S = 6 * 3_600
"""Within 6 hours of issuing, tokenP answers with the same token again."""


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that decides how the simulated KIS server behaves.

    Attributes:
        mode: "real" answers the TTTC… TR IDs with the real-account limit (18/s);
            "virtual" answers VTTC… with 1/s and the 모의투자 message codes.
        app_key, app_secret: the only key pair the gateway accepts (others get EGW00103).
        account_no, account_product_code: the account (CANO, ACNT_PRDT_CD) opened at start.
        starting_cash_krw: cash of that account when the store first opens it.
        rate_limit_per_s: steady REST rate per app key; None picks 18 (real) or 1 (virtual).
        rate_limit_burst: requests allowed beyond ``floor(rate)`` in any 1-second window
            (default 0: exactly the documented limit, counted in a sliding window).
        token_min_interval_s: tokenP calls closer than this for one app key get EGW00133.
        store_path: SQLite file shared across processes; None keeps everything in memory.
        clock: where "now" comes from (market hours, prices, token expiry).
        always_open: keep the market open at any hour (demos); intraday prices then loop
            over the session path of the current (or last) trading day.
        seed: seed of the deterministic price generator.
        replay_csv: daily-bar CSV files replayed instead of generated prices for their tickers.
        liquidity_fraction: share of a simulated minute's volume one order may take; larger
            orders fill in parts over the following minutes.
        commission_rate: broker commission per side, charged on every fill.
        timeout_delay_s: how long a "timeout" fault holds an answer (or until the server stops).
        monotonic: the time source of the rate limiter (seconds; injectable for tests).
        page_size: rows per page of every paged TR (inquire-balance, inquire-daily-ccld, news
            titles, statements); None keeps the documented sizes (balance 50 real / 20
            virtual, executions 100 real / 15 virtual, news 40, statements 30).
        synthetic_instruments: how many made-up tickers (`SY0001`...) to list besides the
            default universe, for load tests with a large watchlist (not KRX listings).
        multi_quote: serve the multi-ticker quote (intstock-multprice). It is real-server
            only: in virtual mode it answers EGW02006 whatever this says; False removes the
            path (HTTP 404), as a server that does not offer it, to test the fallback.
        corporate_actions: splits and rights issues (`corporate.CorporateAction`); the
            adjusted daily chart served before an action's day is on the old price basis, so
            the served past changes when the clock passes it.
    """

    mode: Mode = "real"
    app_key: str = field(default=DEMO_APP_KEY, repr=False)
    app_secret: str = field(default=DEMO_APP_SECRET, repr=False)
    account_no: str = DEMO_ACCOUNT_NO
    account_product_code: str = "01"
    starting_cash_krw: int = 100_000_000
    rate_limit_per_s: float | None = None
    rate_limit_burst: float = 0.0
    token_min_interval_s: float = 60.0
    store_path: Path | str | None = None
    clock: Clock = field(default_factory=SystemClock)
    always_open: bool = False
    seed: int = 7
    replay_csv: tuple[Path, ...] = ()
    liquidity_fraction: Decimal = Decimal("0.1")
    commission_rate: Decimal = DEFAULT_COMMISSION_RATE
    timeout_delay_s: float = 30.0
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    page_size: int | None = None
    synthetic_instruments: int = 0
    multi_quote: bool = True
    corporate_actions: tuple[CorporateAction, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in ("real", "virtual"):
            raise ValueError(f"mode must be 'real' or 'virtual', got {self.mode!r}")
        if not (len(self.account_no) == 8 and self.account_no.isdigit()):
            raise ValueError("account_no must be the 8-digit CANO")
        if not (len(self.account_product_code) == 2 and self.account_product_code.isdigit()):
            raise ValueError("account_product_code must be 2 digits")
        if not 0 <= self.synthetic_instruments <= 9_999:
            raise ValueError("synthetic_instruments must be between 0 and 9999")
        if self.starting_cash_krw < 0:
            raise ValueError("starting_cash_krw must not be negative")

    @property
    def steady_rate_per_s(self) -> float:
        """Return the configured REST rate, or the documented default of the mode."""
        if self.rate_limit_per_s is not None:
            return self.rate_limit_per_s
        return REAL_RATE_LIMIT_PER_S if self.mode == "real" else VIRTUAL_RATE_LIMIT_PER_S

    @property
    def is_virtual(self) -> bool:
        """Tell whether the simulator plays the 모의투자 server."""
        return self.mode == "virtual"

    def with_changes(self, **changes: Any) -> SimulatorConfig:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)
