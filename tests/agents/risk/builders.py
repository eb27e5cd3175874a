"""Small builders for risk-gate inputs, so each test states only the numbers it is about."""

from __future__ import annotations

from decimal import Decimal

from agents.risk.models import Holding, MarketSnapshot, PortfolioSnapshot
from agents.schemas import Signal
from db.models import SignalStatus, Stance
from tools.krx.rules import Market

SAMSUNG = "005930"
HYNIX = "000660"
NAVER = "035420"
THREAD = "default:2025-03-04:open"


def ok_signal(ticker: str, stance: Stance, conviction: str) -> Signal:
    """An ok signal with the given stance and conviction (the score follows the stance)."""
    value = Decimal(conviction)
    score = {Stance.BUY: value, Stance.SELL: -value, Stance.HOLD: Decimal(0)}[stance]
    return Signal(
        ticker=ticker,
        status=SignalStatus.OK,
        stance=stance,
        conviction=value,
        score=score,
        reason="test",
    )


def snap(
    ticker: str,
    last: int,
    prev_close: int | None = None,
    vol: str | None = "2",
    market: Market = Market.KOSPI,
) -> MarketSnapshot:
    """A market snapshot; the previous close defaults to the last price."""
    return MarketSnapshot(
        ticker=ticker,
        last_price_krw=last,
        prev_close_krw=prev_close if prev_close is not None else last,
        daily_volatility_pct=Decimal(vol) if vol is not None else None,
        market=market,
    )


def book_of(*snapshots: MarketSnapshot) -> dict[str, MarketSnapshot]:
    """The market mapping the gate takes."""
    return {s.ticker: s for s in snapshots}


def account(
    cash: int = 50_000_000,
    equity: int = 100_000_000,
    positions: dict[str, tuple[int, int]] | None = None,
    peak: int | None = None,
    start_of_day: int | None = None,
) -> PortfolioSnapshot:
    """A portfolio; positions are {ticker: (qty, total cost)}; peak and start default to equity."""
    return PortfolioSnapshot(
        cash_krw=cash,
        equity_krw=equity,
        positions={t: Holding(qty=q, cost_basis_krw=c) for t, (q, c) in (positions or {}).items()},
        peak_equity_krw=peak if peak is not None else equity,
        start_of_day_equity_krw=start_of_day if start_of_day is not None else equity,
    )
