"""The simulated market: daily history, a minute path through each session, and quotes in time.

Prices are deterministic. Generated tickers follow a seeded mean-reverting walk around their
anchor price on the KRX calendar since 2012; replayed tickers take their daily bars from CSV. Each
session is cut into 390 one-minute bars (09:00-15:29 KST) by a seeded bridge from open to close
that touches the day's high and low, so prices move as the injected clock moves.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Literal

import pandas as pd

from core.clock import KST
from tools.kis.simulator.corporate import CorporateAction, factor_as_of, raw_factor, scale
from tools.kis.simulator.instruments import DEFAULT_UNIVERSE, Instrument, synthetic_universe
from tools.kis.simulator.replay import DailyBar, ReplaySeries
from tools.krx.calendar import is_trading_day, krx_calendar, session_hours
from tools.krx.rules import Market as Board
from tools.krx.rules import price_limits, tick_size

SESSION_MINUTES = 390
"""09:00 to 15:30 KST, one bar per minute (a shorter day uses the first bars of its path)."""
HISTORY_START = date(2012, 1, 2)
Phase = Literal["pre", "open", "post"]


@dataclass(frozen=True, slots=True)
class SessionPoint:
    """Where an instant falls in the market's day."""

    day: date
    """The session the instant belongs to (the last trading day when the market is shut)."""
    index: int | None
    """Minute of the session (0 = 09:00) while open; None otherwise."""
    phase: Phase


@dataclass(frozen=True, slots=True)
class MinuteBar:
    """One minute of one instrument."""

    open: int
    high: int
    low: int
    close: int
    volume: int


@dataclass(frozen=True, slots=True)
class Quote:
    """An instrument as seen at one instant."""

    instrument: Instrument
    day: date
    phase: Phase
    price: int
    open: int
    high: int
    low: int
    volume: int
    amount: int
    prev_close: int
    lower: int
    upper: int
    tick: int
    halted: bool
    """No bar for the session (replay gap) or a zero-volume bar: no fills."""


@lru_cache(maxsize=4096)
def _trading(day: date) -> bool:
    return is_trading_day(day)


@lru_cache(maxsize=4096)
def previous_trading_day(day: date) -> date:
    """Return the last trading day strictly before `day`."""
    cal = krx_calendar()
    ts = pd.Timestamp(day)
    if cal.is_session(ts):
        return cal.previous_session(ts).date()  # type: ignore[no-any-return]
    return cal.date_to_session(ts, direction="previous").date()  # type: ignore[no-any-return]


def session_point(now: datetime, always_open: bool) -> SessionPoint:
    """Place an instant in the KRX day; `always_open` loops the session at any hour.

    The day's open and close are the calendar's (`tools.krx.calendar.session_hours`), so the
    year's first session (10:00-15:30) and an exam day (10:00-16:30) refuse orders at 09:30 as
    KIS does.
    """
    kst = now.astimezone(KST)
    day = kst.date()
    trading = _trading(day)
    if always_open:
        minutes = kst.hour * 60 + kst.minute - 9 * 60
        return SessionPoint(day if trading else previous_trading_day(day), minutes % 390, "open")
    hours = session_hours(day) if trading else None
    if hours is None:
        return SessionPoint(previous_trading_day(day), None, "post")
    opens, closes = hours
    if now < opens:
        return SessionPoint(day, None, "pre")
    if now >= closes:
        return SessionPoint(day, None, "post")
    minute = int((now - opens).total_seconds() // 60)
    return SessionPoint(day, min(minute, SESSION_MINUTES - 1), "open")


def _tick_round(price: float, board: Board, day: date, *, up: bool = False) -> int:
    value = max(1, int(price))
    tick = tick_size(value, board, day)
    snapped = (value // tick) * tick
    if up and snapped < price:
        snapped += tick
    return max(snapped, tick)


def _generate(inst: Instrument, seed: int) -> tuple[DailyBar, ...]:
    cal = krx_calendar()
    days = [
        ts.date() for ts in cal.sessions_in_range(pd.Timestamp(HISTORY_START), cal.last_session)
    ]
    rng = random.Random(f"{seed}:{inst.ticker}")
    board, x, prev = inst.market, rng.gauss(0.0, 0.08), inst.base_price
    bars: list[DailyBar] = []
    for day in days:
        x = 0.995 * x + rng.gauss(0.0, 0.014)
        lower, upper = price_limits(prev, board, day)
        close = min(max(_tick_round(inst.base_price * math.exp(x), board, day), lower), upper)
        opn = min(
            max(_tick_round(prev * math.exp(rng.gauss(0.0, 0.005)), board, day), lower), upper
        )
        high = min(
            _tick_round(max(opn, close) * math.exp(abs(rng.gauss(0, 0.007))), board, day, up=True),
            upper,
        )
        low = max(
            _tick_round(min(opn, close) * math.exp(-abs(rng.gauss(0, 0.007))), board, day), lower
        )
        volume = int(inst.avg_volume * math.exp(rng.gauss(0.0, 0.35)))
        bars.append(DailyBar(day, opn, high, low, close, max(volume, 1)))
        prev = close
    return tuple(bars)


class SimMarket:
    """Prices of the simulator's universe, generated or replayed, as of any instant."""

    def __init__(
        self,
        seed: int = 7,
        replay: tuple[ReplaySeries, ...] = (),
        *,
        always_open: bool = False,
        synthetic: int = 0,
        actions: tuple[CorporateAction, ...] = (),
    ) -> None:
        """Set up the default universe, `synthetic` made-up tickers, and any replayed series.

        Replayed series win on a shared ticker. `actions` (splits, rights issues) re-adjust
        the history served as of the days before they take effect (`corporate`).
        """
        self.seed = seed
        self.always_open = always_open
        self.instruments: dict[str, Instrument] = {i.ticker: i for i in DEFAULT_UNIVERSE}
        self.instruments |= {i.ticker: i for i in synthetic_universe(synthetic, seed)}
        self._replayed: dict[str, tuple[DailyBar, ...]] = {}
        for series in replay:
            known = self.instruments.get(series.ticker)
            last = series.bars[-1].close
            avg = sum(b.volume for b in series.bars[-250:]) // max(1, len(series.bars[-250:]))
            self.instruments[series.ticker] = Instrument(
                series.ticker,
                known.name if known else series.name,
                known.name_en if known else series.name,
                known.market if known else Board.KOSPI,
                last,
                known.listed_shares if known else 100_000_000,
                max(avg, 1),
                known.sector if known else "",
                known.par_value if known else 0,
                known.eps if known else 0,
                known.bps if known else 0,
                known.revenue_100m if known else 0,
            )
            self._replayed[series.ticker] = series.bars
        self._generated: dict[str, tuple[DailyBar, ...]] = {}
        self._days: dict[str, list[date]] = {}
        self._actions: dict[str, tuple[CorporateAction, ...]] = {}
        for action in actions:
            self.add_corporate_action(action)

    def add_corporate_action(self, action: CorporateAction) -> None:
        """Announce a split or rights issue (tests call it on a running simulator too).

        The generated path is the final adjusted one, so from now on the days before the
        action read on the old basis (`factor` times higher) until the clock reaches its
        effective day: announce it before serving the history a test compares.
        """
        self._actions[action.ticker] = (*self._actions.get(action.ticker, ()), action)

    def instrument(self, ticker: str) -> Instrument | None:
        """Return the instrument, or None for a ticker the market does not list."""
        return self.instruments.get(ticker)

    def _bars(self, ticker: str) -> tuple[DailyBar, ...]:
        if ticker in self._replayed:
            return self._replayed[ticker]
        if ticker not in self._generated:
            self._generated[ticker] = _generate(self.instruments[ticker], self.seed)
        return self._generated[ticker]

    def history(self, ticker: str, through: date, *, before: bool = False) -> tuple[DailyBar, ...]:
        """Return the daily bars up to `through` (excluded if `before`), oldest first."""
        bars = self._bars(ticker)
        days = self._days.get(ticker)
        if days is None:
            days = self._days[ticker] = [b.day for b in bars]
        end = bisect.bisect_left(days, through) if before else bisect.bisect_right(days, through)
        actions = self._actions.get(ticker)
        if not actions:
            return bars[:end]
        # Adjusted as of `through`: actions still ahead then leave the past on its old basis.
        return tuple(scale(b, factor_as_of(actions, b.day, through)) for b in bars[:end])

    def as_traded(
        self, ticker: str, bars: tuple[DailyBar, ...], as_of: date
    ) -> tuple[DailyBar, ...]:
        """Return `bars`, as served adjusted on `as_of`, at the prices they traded at."""
        actions = self._actions.get(ticker)
        if not actions:
            return bars
        return tuple(scale(b, raw_factor(actions, b.day, as_of)) for b in bars)

    def bar_on(self, ticker: str, day: date) -> DailyBar | None:
        """Return the full daily bar of `day`, or None when there is none."""
        bars = self.history(ticker, day)
        return bars[-1] if bars and bars[-1].day == day else None

    def minute_bars(self, ticker: str, day: date) -> tuple[MinuteBar, ...]:
        """Return the 390 minute bars of a session (empty when the day has no bar)."""
        bar = self.bar_on(ticker, day)
        if bar is None:
            return ()
        return _minute_path(bar, self.instruments[ticker].market, f"{self.seed}:{ticker}:{day}")

    def minute_bar(self, ticker: str, instant: datetime) -> MinuteBar | None:
        """Return the bar of the minute holding `instant`, or None while the market is shut."""
        point = session_point(instant, self.always_open)
        if point.index is None:
            return None
        bars = self.minute_bars(ticker, point.day)
        return bars[point.index] if bars else None

    def quote(self, ticker: str, now: datetime) -> Quote:
        """Return the instrument's state at `now`: today's bar so far and its price limits."""
        inst = self.instruments[ticker]
        point = session_point(now, self.always_open)
        past = self.history(ticker, point.day, before=True)
        prev_close = past[-1].close if past else inst.base_price
        lower, upper = price_limits(prev_close, inst.market, point.day)
        tick = tick_size(prev_close, inst.market, point.day)
        bars = self.minute_bars(ticker, point.day)
        if point.phase == "pre" or not bars:
            halted = not bars
            return Quote(
                inst,
                point.day,
                point.phase,
                prev_close,
                prev_close,
                prev_close,
                prev_close,
                0,
                0,
                prev_close,
                lower,
                upper,
                tick,
                halted,
            )
        upto = bars if point.index is None else bars[: point.index + 1]
        volume = sum(b.volume for b in upto)
        return Quote(
            inst,
            point.day,
            point.phase,
            upto[-1].close,
            upto[0].open,
            max(b.high for b in upto),
            min(b.low for b in upto),
            volume,
            sum(b.volume * b.close for b in upto),
            prev_close,
            lower,
            upper,
            tick,
            volume == 0,
        )


@lru_cache(maxsize=256)
def _minute_path(bar: DailyBar, board: Board, key: str) -> tuple[MinuteBar, ...]:
    rng = random.Random(key)
    walk = [0.0]
    for _ in range(SESSION_MINUTES - 1):
        walk.append(walk[-1] + rng.gauss(0.0, 1.0))
    last = walk[-1]
    n = SESSION_MINUTES - 1
    bridge = [w - last * k / n for k, w in enumerate(walk)]
    spread = max(max(bridge) - min(bridge), 1e-9)
    scale = (bar.high - bar.low) / spread
    raw = [bar.open + (bar.close - bar.open) * k / n + scale * b for k, b in enumerate(bridge)]
    closes = [min(max(_tick_round(p, board, bar.day), bar.low), bar.high) for p in raw]
    closes[-1] = bar.close
    hi = max(range(n), key=lambda k: bridge[k])
    lo = min(range(n), key=lambda k: bridge[k])
    closes[hi], closes[lo] = bar.high, bar.low
    weights = [0.5 + rng.random() for _ in range(SESSION_MINUTES)]
    total = sum(weights)
    volumes = [int(bar.volume * w / total) for w in weights]
    volumes[-1] += bar.volume - sum(volumes)
    out: list[MinuteBar] = []
    prev = bar.open
    for close, volume in zip(closes, volumes, strict=True):
        out.append(MinuteBar(prev, max(prev, close), min(prev, close), close, volume))
        prev = close
    return tuple(out)
