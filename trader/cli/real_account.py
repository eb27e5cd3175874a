"""What a real account (`TRADING_MODE=kis-real`) needs beyond the settings' opt-in.

- Automatic approval (`--auto-approve`, or any approval nobody is asked for) is refused unless
  `KIS_REAL_AUTO_APPROVE=true` allows it too.
- Its sessions live in one database, recorded by a per-user marker (`db.account_marker`):
  a command on another database (another folder's `./data`, say) is refused before anything
  is opened or created; `trader account claim` moves the marker on purpose.
"""

from __future__ import annotations

from core.errors import ConfigurationError
from db.account_marker import guard_database
from trader.cli import clock as cli_clock
from trader.settings import Settings, TradingMode
from trader.wiring.venue import venue_for


def is_real_account(settings: Settings, *, demo: bool) -> bool:
    """True when orders would go to a real KIS account (never on the demo market)."""
    return not demo and settings.trading_mode is TradingMode.KIS_REAL


def refuse_auto_approval(settings: Settings, *, demo: bool, reason: str) -> None:
    """Refuse an approval nobody is asked for on a real account, unless explicitly allowed.

    Raises:
        ConfigurationError: a real account without `KIS_REAL_AUTO_APPROVE=true`.
    """
    if is_real_account(settings, demo=demo) and not settings.kis_real_auto_approve:
        raise ConfigurationError(
            f"automatic approval ({reason}) is refused on a real account: approve in a "
            "terminal or with `trader approve`, or set KIS_REAL_AUTO_APPROVE=true to allow it"
        )


def guard_real_database(settings: Settings, *, demo: bool) -> None:
    """Refuse a real account's session on another database than its marker names.

    Called before the database is opened (or created): it only reads the marker. The first
    real-account session writes it when its context opens (`trader.wiring`). Raises
    `OtherDatabaseError`.
    """
    if is_real_account(settings, demo=demo):
        guard_database(
            settings.state_dir,
            venue_for(settings, demo=False).account,
            settings.resolved_database_url,
            cli_clock.session_clock().now(),
            claim=False,
        )
