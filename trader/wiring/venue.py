"""Which venue the settings select, and how every run records it, without opening anything.

Three venues, chosen by settings and the `demo` flag, never by branches inside the clients:

- `demo`: the built-in market, the KIS simulator in-process with its store in the data folder.
- `kis-real` / `kis-virtual`: the KIS client on the configured account.
- `paper`: the paper broker, its books in the data folder.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.context import DEMO_VENUE
from agents.venue import DEMO_SERVER_PREFIX, PAPER_SERVER_PREFIX, VenueIdentity, fit_server
from tools.kis.endpoints import BASE_URLS
from tools.kis.simulator import SimulatorConfig
from trader.accounts import account_fingerprint, kis_account_name
from trader.settings import Settings, TradingMode
from trader.wiring.configs import KIS_MODES

DEMO_STORE = "demo-kis-sim.db"
"""The demo market's simulator store, in the data folder."""
PAPER_STORE = "paper-broker.db"
"""The paper broker's books (one account per portfolio), in the data folder."""


@dataclass(frozen=True)
class Venue:
    """Where a session's orders go: the venue, its server and the account's fingerprint."""

    name: str
    demo: bool
    server: str
    """The KIS base URL; `in-process:<store>` for the demo market, `paper:<store>` for paper."""
    account: str
    """`trader.accounts.account_fingerprint` of the account (never the number)."""

    @property
    def identity(self) -> VenueIdentity:
        """What the runs table records and every resume compares."""
        return VenueIdentity(self.name, self.server, self.account)


def venue_for(settings: Settings, *, demo: bool) -> Venue:
    """Return the venue the settings (and the demo flag) select, without opening anything."""
    if demo:
        sim = SimulatorConfig()
        return Venue(
            DEMO_VENUE,
            True,
            fit_server(f"{DEMO_SERVER_PREFIX}{(settings.data_dir / DEMO_STORE).resolve()}"),
            account_fingerprint(kis_account_name(sim.account_no, sim.account_product_code)),
        )
    mode = settings.trading_mode
    if mode is TradingMode.PAPER:
        return Venue(
            mode.value,
            False,
            fit_server(f"{PAPER_SERVER_PREFIX}{(settings.data_dir / PAPER_STORE).resolve()}"),
            account_fingerprint(f"paper:{settings.portfolio}"),
        )
    cano, product = settings.kis_account
    return Venue(
        mode.value,
        False,
        fit_server((settings.kis_base_url or BASE_URLS[KIS_MODES[mode]]).rstrip("/")),
        account_fingerprint(kis_account_name(cano, product)),
    )
