"""Hypothesis strategies for whatever the analysts, the account and the market may throw at the
gate: extreme convictions, unknown tickers, absurd prices and volatilities, any cash.

Two flavours feed the same invariants: `wild_scenarios` draws every number independently
(absurd on purpose: halts, zero equity, prices of 1 KRW or a billion), and
`plausible_scenarios` draws a coherent session (equity = cash + positions at market, last price
inside the band) in which orders, clamps and partial fills of the caps actually happen, so the
invariants are not checked only on empty reports.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from agents.risk import Holding, MarketSnapshot, PortfolioSnapshot, RiskLimits
from agents.schemas import Signal
from db.models import SignalStatus, Stance
from tools.krx.rules import Market

TICKERS = ("005930", "000660", "035420", "005380", "051910", "069500", "999999", "00000A")
"""A small pool, so signals, positions and market data collide often."""
KNOWN = TICKERS[:6]
"""Tickers that have market data in a plausible session; the other two never do."""

Scenario = tuple[list[Signal], PortfolioSnapshot, dict[str, MarketSnapshot], RiskLimits]


def _of_magnitude(digits: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=10 ** (digits - 1), max_value=10**digits)


def magnitudes(low: int, high: int) -> st.SearchStrategy[int]:
    """Integers spread evenly over orders of magnitude 10^(low-1) .. 10^high."""
    return st.integers(min_value=low, max_value=high).flatmap(_of_magnitude)


money = st.one_of(magnitudes(1, 13), st.sampled_from([0, 1, 999_999, 1_000_000, 100_000_000]))
prices = st.one_of(
    magnitudes(1, 7),
    st.sampled_from([1, 1_999, 2_000, 19_990, 49_950, 199_900, 500_000, 10**9]),
)
convictions = st.one_of(
    st.sampled_from([Decimal(0), Decimal(1), Decimal("0.00001"), Decimal("0.99999")]),
    st.decimals(min_value=0, max_value=1, places=5),
)
volatilities = st.one_of(
    st.none(),
    st.sampled_from([Decimal(0), Decimal("0.00001"), Decimal(10**6)]),
    st.decimals(min_value=0, max_value=100, places=4),
)
plausible_volatilities = st.sampled_from(
    [None, *(Decimal(v) for v in ("0", "0.8", "1.5", "2", "2", "3.3", "5", "9.75"))]
)
percents = st.decimals(min_value=Decimal("0.01"), max_value=100, places=2)
_FAILURES = [s for s in SignalStatus if s is not SignalStatus.OK]


def _signal(ticker: str, status: SignalStatus, stance: Stance, conviction: Decimal) -> Signal:
    if status is not SignalStatus.OK:
        return Signal(ticker=ticker, status=status, reason="analyst failed")
    return Signal(ticker=ticker, status=status, stance=stance, conviction=conviction)


def _ticker_of(signal: Signal) -> str:
    return signal.ticker


signals = st.builds(
    _signal,
    ticker=st.sampled_from(TICKERS),
    status=st.sampled_from([SignalStatus.OK] * 6 + _FAILURES),
    stance=st.sampled_from([Stance.BUY, Stance.BUY, Stance.SELL, Stance.SELL, Stance.HOLD]),
    conviction=convictions,
)
signal_lists = st.one_of(
    st.lists(signals, max_size=8, unique_by=_ticker_of),
    st.lists(signals, max_size=10),
)
"""Mostly one signal per ticker, as `combine_all` gives; sometimes repeats."""


@st.composite
def snapshot(draw: st.DrawFn, ticker: str, plausible: bool) -> MarketSnapshot:
    """One ticker's day: plausible (last within the band) or anything."""
    prev_close = draw(magnitudes(3, 6) if plausible else prices)
    if plausible:
        move = draw(st.integers(min_value=-30, max_value=30))
        last = max(prev_close + prev_close * move // 100, 1)
        vol = draw(plausible_volatilities)
    else:
        last = draw(prices)
        vol = draw(volatilities)
    return MarketSnapshot(
        ticker=ticker,
        last_price_krw=last,
        prev_close_krw=prev_close,
        daily_volatility_pct=vol,
        market=draw(st.sampled_from([Market.KOSPI, Market.KOSPI, *Market])),
    )


@st.composite
def positions(
    draw: st.DrawFn, market: dict[str, MarketSnapshot], pool: tuple[str, ...]
) -> dict[str, Holding]:
    """Up to four holdings; at a cost near the market (±5 %, sometimes ±40 %) when known."""
    held = draw(st.lists(st.sampled_from(pool), unique=True, max_size=4))
    result = {}
    for ticker in held:
        qty = draw(st.one_of(st.integers(1, 2_000), st.integers(1, 10**7)))
        known = market.get(ticker)
        if known is not None and draw(st.integers(0, 3)) > 0:
            spread = draw(st.sampled_from([5, 5, 5, 40]))
            move = draw(st.integers(min_value=-spread, max_value=spread))
            cost = qty * known.last_price_krw * (100 + move) // 100
        else:
            cost = draw(money)
        # Sometimes open sell orders at the broker lock part (or all) of the holding.
        locked = draw(st.one_of(st.just(0), st.integers(0, qty)))
        result[ticker] = Holding(qty=qty, cost_basis_krw=cost, sellable_qty=qty - locked)
    return result


@st.composite
def risk_limits(draw: st.DrawFn) -> RiskLimits:
    """The defaults (or defaults with a low order count), or any valid set of limits."""
    choice = draw(st.integers(min_value=0, max_value=3))
    if choice == 0:
        return RiskLimits()
    if choice == 1:
        return RiskLimits(max_orders_per_session=draw(st.integers(min_value=1, max_value=4)))
    gross = draw(percents)
    return RiskLimits(
        max_order_krw=draw(magnitudes(1, 10)),
        max_ticker_exposure_pct=draw(
            st.decimals(min_value=Decimal("0.01"), max_value=gross, places=2)
        ),
        max_gross_exposure_pct=gross,
        min_cash_buffer_krw=draw(st.one_of(st.just(0), magnitudes(1, 9))),
        daily_loss_halt_pct=draw(percents),
        drawdown_halt_pct=draw(percents),
        stop_loss_pct=draw(st.decimals(min_value=Decimal("0.01"), max_value=99, places=2)),
        take_profit_pct=draw(st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2)),
        max_orders_per_session=draw(st.integers(min_value=1, max_value=10)),
        volatility_target_pct=draw(st.decimals(min_value=Decimal("0.01"), max_value=50, places=2)),
    )


@st.composite
def wild_scenarios(draw: st.DrawFn) -> Scenario:
    """Every number drawn on its own: the gate must hold even when the inputs disagree."""
    known = draw(st.lists(st.sampled_from(TICKERS), unique=True, max_size=len(TICKERS)))
    market = {t: draw(snapshot(t, plausible=draw(st.booleans()))) for t in known}
    equity = draw(money)
    portfolio = PortfolioSnapshot(
        cash_krw=draw(st.one_of(money, st.just(equity))),
        positions=draw(positions(market, TICKERS)),
        equity_krw=equity,
        peak_equity_krw=draw(st.one_of(money, st.just(equity))),
        start_of_day_equity_krw=draw(st.one_of(money, st.just(equity))),
    )
    return draw(signal_lists), portfolio, market, draw(risk_limits())


@st.composite
def plausible_scenarios(draw: st.DrawFn) -> Scenario:
    """A coherent session: known prices in their band, equity = cash + positions, rarely a
    halt, one signal per ticker, mostly ok."""
    market = {t: draw(snapshot(t, plausible=True)) for t in KNOWN}
    held = draw(positions(market, KNOWN))
    cash = draw(magnitudes(7, 10))
    equity = cash + sum(h.qty * market[t].last_price_krw for t, h in held.items())
    drawdown = draw(st.sampled_from([0] * 8 + [2, 20]))
    daily_loss = draw(st.sampled_from([0] * 8 + [1, 4]))
    portfolio = PortfolioSnapshot(
        cash_krw=cash,
        positions=held,
        equity_krw=equity,
        peak_equity_krw=equity * 100 // (100 - drawdown),
        start_of_day_equity_krw=equity * 100 // (100 - daily_loss),
    )
    sigs = draw(
        st.lists(
            st.builds(
                _signal,
                ticker=st.sampled_from(TICKERS),
                status=st.sampled_from([SignalStatus.OK] * 8 + _FAILURES[:2]),
                stance=st.sampled_from([Stance.BUY] * 5 + [Stance.SELL] * 3 + [Stance.HOLD]),
                conviction=convictions,
            ),
            min_size=1,
            max_size=len(TICKERS),
            unique_by=_ticker_of,
        )
    )
    return sigs, portfolio, market, draw(risk_limits())
