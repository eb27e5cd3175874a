"""The risk gate: signals in, sized and valid orders out, every clamp and denial written down.

`propose_orders` is pure and deterministic. In order:

1. Halts: a daily loss or a drawdown beyond its limit stops every new buy (sells still go).
2. Exits: stop-loss and take-profit orders for held positions (`agents.risk.exits`); they
   come first and always pass.
3. Signals, one per ticker (a repeated ticker is denied): failed signals and unknown tickers
   are denied with their reason, HOLDs propose nothing. Sells go before buys (they reduce
   risk), buys by conviction, highest first, ties by ticker.
4. Sizing a buy: the position's target is
   ``equity x max_ticker_exposure_pct x conviction x min(1, target_vol / vol)`` (a volatility
   of 0 scales by 1; no volatility estimate at all denies the buy); the order buys what the
   position lacks of its target (held value and buys already proposed count), at the last
   price rounded down to the tick and kept inside today's band, floored to whole shares, then
   cut by the per-order, per-ticker, gross and cash caps (`agents.risk.book`). A position at
   its target, or short of it by less than `min_top_up_pct` of the target, buys nothing
   (`at_target`): a buy signal that lasts for days tops the position up to what its
   conviction asks, instead of adding to it every day.
   Sizing a sell: ``floor(held x conviction)`` at the last price rounded up, cut to the shares
   held, to the shares the broker lets us sell (held minus what its open sell orders lock;
   the cut is a clamp in the report) and to the per-order cap.
5. At most `max_orders_per_session` orders (exits are never dropped). A quantity of zero after
   the caps is a denial with the cap that caused it.

`recheck_edit` (in `agents.risk.edit`) puts an approver's change back through the same caps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from agents.risk.book import Book, halt_decisions
from agents.risk.edit import recheck_edit
from agents.risk.exits import exit_orders
from agents.risk.limits import RiskLimits
from agents.risk.models import (
    DecisionKind,
    MarketSnapshot,
    OrderOrigin,
    PortfolioSnapshot,
    ProposedOrder,
    RiskCode,
    RiskDecision,
    RiskReport,
    make_client_order_id,
)
from agents.risk.pricing import check_price, price_band, snap_limit_price
from agents.schemas import Signal
from core.orders import OrderType, Side
from db.models import SignalStatus, Stance
from tools.krx.costs import CostModel, floor_krw

__all__ = ["propose_orders", "recheck_edit"]


def propose_orders(
    signals: Sequence[Signal],
    portfolio: PortfolioSnapshot,
    market: Mapping[str, MarketSnapshot],
    limits: RiskLimits,
    *,
    thread_id: str,
    cost_model: CostModel | None = None,
    session_date: date | None = None,
) -> RiskReport:
    """Turn the session's signals into the orders put before the approver.

    Args:
        signals: one combined signal per ticker (`agents.schemas.combine_all`).
        portfolio: the account as reconciled with the broker.
        market: today's snapshot per ticker; a ticker without one cannot be traded.
        limits: the risk limits.
        thread_id: the session's thread id; it seeds the deterministic client order ids.
        cost_model: commission used in the cash check (default: the standard rate).
        session_date: the trading date, for the tick table (None: the current table).

    Returns:
        The proposed orders and every clamp, denial, halt and note, in the order they arose.
    """
    book = Book(portfolio, market, limits, cost_model or CostModel())
    decisions: list[RiskDecision] = []
    halts = halt_decisions(portfolio, limits)
    decisions.extend(halts)

    exits, exit_notes = exit_orders(
        portfolio, market, limits, thread_id=thread_id, session_date=session_date
    )
    decisions.extend(exit_notes)
    orders: list[ProposedOrder] = []
    for order in exits:
        book.commit(order.ticker, order.side, order.qty, _check_price(order, market, session_date))
        orders.append(order)
    # A triggered exit marks its ticker even when nothing could be sold (all shares locked by
    # open sell orders at the broker): no signal may buy or sell it this session.
    exiting = {
        d.ticker
        for d in exit_notes
        if d.ticker and d.code in (RiskCode.STOP_LOSS, RiskCode.TAKE_PROFIT)
    }

    ctx = _Context(book, market, limits, thread_id, session_date, halts, exiting)
    for signal in _actionable(signals, decisions):
        if len(orders) >= limits.max_orders_per_session:
            decisions.append(
                _deny(
                    signal,
                    RiskCode.MAX_ORDERS,
                    f"the session already has {len(orders)} orders, the most allowed",
                )
            )
            continue
        if signal.stance is Stance.SELL:
            proposed = _sell(signal, ctx, decisions)
        else:
            proposed = _buy(signal, ctx, decisions)
        if proposed is None:
            continue
        check = _check_price(proposed, market, session_date)
        book.commit(proposed.ticker, proposed.side, proposed.qty, check)
        orders.append(proposed)
    return RiskReport(orders=tuple(orders), decisions=tuple(decisions), buys_halted=bool(halts))


@dataclass(frozen=True, slots=True)
class _Context:
    """What `_buy` and `_sell` need besides the signal."""

    book: Book
    market: Mapping[str, MarketSnapshot]
    limits: RiskLimits
    thread_id: str
    session_date: date | None
    halts: list[RiskDecision]
    exiting: set[str]


def _actionable(signals: Sequence[Signal], decisions: list[RiskDecision]) -> list[Signal]:
    """Deny failed and repeated signals, drop HOLDs, and order the rest: sells, then buys."""
    seen: set[str] = set()
    keep: list[Signal] = []
    for signal in signals:
        if signal.ticker in seen:
            decisions.append(
                _deny(signal, RiskCode.DUPLICATE_SIGNAL, "a second signal for this ticker")
            )
            continue
        seen.add(signal.ticker)
        if signal.status is not SignalStatus.OK:
            why = f"signal status {signal.status.value}: {signal.reason}".rstrip(": ")
            decisions.append(_deny(signal, RiskCode.SIGNAL_FAILED, why))
        elif signal.stance in (Stance.BUY, Stance.SELL):
            keep.append(signal)
    return sorted(
        keep,
        key=lambda s: (
            s.stance is Stance.BUY,
            -(s.conviction or Decimal(0)),
            s.ticker,
        ),
    )


def _buy(signal: Signal, ctx: _Context, decisions: list[RiskDecision]) -> ProposedOrder | None:
    if ctx.halts:
        decisions.append(
            _deny(signal, ctx.halts[0].code, "new buys are halted: " + ctx.halts[0].reason)
        )
        return None
    if signal.ticker in ctx.exiting:
        decisions.append(
            _deny(signal, RiskCode.EXIT_PENDING, "the position is being exited this session")
        )
        return None
    snapshot = ctx.market.get(signal.ticker)
    if snapshot is None:
        decisions.append(_deny(signal, RiskCode.UNKNOWN_TICKER, "no market data for this ticker"))
        return None
    vol = snapshot.daily_volatility_pct
    if vol is None:
        decisions.append(
            _deny(signal, RiskCode.NO_VOLATILITY, "no volatility estimate to size a buy with")
        )
        return None
    price = _limit_price(signal, snapshot, Side.BUY, ctx, decisions)
    if price is None:
        return None
    conviction = signal.conviction or Decimal(0)
    scale = min(Decimal(1), ctx.limits.volatility_target_pct / vol) if vol > 0 else Decimal(1)
    target = floor_krw(
        Decimal(ctx.book.portfolio.equity_krw)
        * ctx.limits.max_ticker_exposure_pct
        / 100
        * conviction
        * scale
    )
    held = ctx.book.ticker_exposure(signal.ticker)
    budget = target - held
    sizing = (
        f"target {target:,} KRW = equity x {ctx.limits.max_ticker_exposure_pct} % x conviction "
        f"{conviction} x volatility scale {scale:.4f} (daily vol {vol:.4f} %)"
    )
    if held:
        sizing += f", less {held:,} KRW held: budget {max(budget, 0):,} KRW"
    qty = max(budget, 0) // price
    top_up_pct = ctx.limits.min_top_up_pct
    if held and budget * 100 < target * top_up_pct:
        # Close enough: no one-share top-up after every price move.
        decisions.append(
            _deny(
                signal,
                RiskCode.AT_TARGET,
                f"{sizing}; the position is at its target (a top-up needs {top_up_pct} % of it)",
            )
        )
        return None
    if qty <= 0:
        decisions.append(
            _deny(signal, RiskCode.SIZED_TO_ZERO, f"{sizing} buys no share at {price:,} KRW")
        )
        return None
    qty = ctx.book.clamp_buy(signal.ticker, qty, price, decisions)
    if qty <= 0:
        return None
    return ProposedOrder(
        client_order_id=make_client_order_id(ctx.thread_id, signal.ticker, Side.BUY),
        ticker=signal.ticker,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=qty,
        limit_price_krw=price,
        origin=OrderOrigin.SIGNAL,
        reason=f"buy signal ({signal.reason}); {sizing}",
    )


def _limit_price(
    signal: Signal,
    snapshot: MarketSnapshot,
    side: Side,
    ctx: _Context,
    decisions: list[RiskDecision],
) -> int | None:
    """The day's limit price at the last price, on the tick grid and inside the band.

    None (and a denial recorded) when the ticker has no orderable price today.
    """
    band = price_band(snapshot, ctx.session_date)
    if band is None:
        decisions.append(_deny(signal, RiskCode.NO_PRICE_BAND, "no orderable price today"))
        return None
    price, notes = snap_limit_price(snapshot.last_price_krw, side, snapshot, band, ctx.session_date)
    decisions.extend(notes)
    return price


def _sell(signal: Signal, ctx: _Context, decisions: list[RiskDecision]) -> ProposedOrder | None:
    snapshot = ctx.market.get(signal.ticker)
    held = ctx.book.held_qty(signal.ticker)
    if snapshot is None:
        decisions.append(_deny(signal, RiskCode.UNKNOWN_TICKER, "no market data for this ticker"))
        return None
    if held <= 0:
        decisions.append(
            _deny(signal, RiskCode.NO_POSITION, "nothing held to sell (no short selling)")
        )
        return None
    if signal.ticker in ctx.exiting:
        decisions.append(
            _deny(signal, RiskCode.EXIT_PENDING, "the whole position is already being exited")
        )
        return None
    price = _limit_price(signal, snapshot, Side.SELL, ctx, decisions)
    if price is None:
        return None
    conviction = signal.conviction or Decimal(0)
    qty = floor_krw(held * conviction)
    if qty <= 0:
        decisions.append(
            _deny(
                signal,
                RiskCode.SIZED_TO_ZERO,
                f"{held:,} held x conviction {conviction} is less than one share",
            )
        )
        return None
    qty = ctx.book.clamp_sell(signal.ticker, qty, price, OrderOrigin.SIGNAL, decisions)
    if qty <= 0:
        return None
    return ProposedOrder(
        client_order_id=make_client_order_id(ctx.thread_id, signal.ticker, Side.SELL),
        ticker=signal.ticker,
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=qty,
        limit_price_krw=price,
        origin=OrderOrigin.SIGNAL,
        reason=f"sell signal ({signal.reason}); {held:,} held x conviction {conviction}",
    )


def _check_price(
    order: ProposedOrder, market: Mapping[str, MarketSnapshot], session_date: date | None
) -> int:
    return check_price(order.order_type, order.limit_price_krw, market[order.ticker], session_date)


def _deny(signal: Signal, code: RiskCode, reason: str) -> RiskDecision:
    side = {Stance.BUY: Side.BUY, Stance.SELL: Side.SELL}.get(signal.stance or Stance.HOLD)
    return RiskDecision(
        kind=DecisionKind.DENY, code=code, reason=reason, ticker=signal.ticker, side=side
    )
