"""`load_context`: the day, the account as the broker reports it, and today's quotes.

The broker is the source of truth for cash and positions; our portfolio row only keeps the last
reconciled cash and the high-water mark. The watchlist and the held tickers are quoted in one
batch (`MarketData.quotes`: KIS's multi-ticker quote, 30 a call, with the day's limit prices the
risk gate then prices inside). A ticker that cannot be quoted (a typo, a delisting, an outage)
is listed with its reason and analysed no further; it never stops the session.
KRX holidays and weekends close the session, except in the demo market for today (it is always
open). Only today's session (the KRX date of the clock) can trade: a session for another date is
analysed and reported with the status `analysis_only`, and never reaches approval or the broker.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from langgraph.runtime import Runtime

from agents.context import SessionContext, session_context
from agents.recorder import SessionHolder
from agents.risk.account import portfolio_from_account
from agents.risk.models import MarketSnapshot
from agents.state import (
    RESET_OPINIONS,
    SessionContextData,
    SessionState,
    SessionStatus,
    Valuation,
    dump,
    read_context,
    read_status,
    thread_id_for,
)
from core.clock import kst_today
from core.errors import TraderError
from tools.krx.tickers import FORM, is_krx_code
from tools.market_data import MarketQuote

log = logging.getLogger(__name__)


def _normalise(tickers: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for raw in tickers:
        ticker = raw.strip().upper()
        if ticker:
            seen.setdefault(ticker, None)
    return tuple(seen)


def _portfolio_and_tickers(state: SessionState, ctx: SessionContext) -> tuple[str, tuple[str, ...]]:
    """The session's portfolio and watchlist: the input's, else the context's defaults."""
    portfolio = state.get("portfolio") or ctx.portfolio
    tickers = state.get("tickers") or ctx.watchlist
    return portfolio, _normalise(tickers)


async def _quote_all(ctx: SessionContext, tickers: tuple[str, ...]) -> dict[str, MarketQuote | str]:
    """Quote the tickers in one batch (`MarketData.quotes`); a failure becomes its reason.

    A malformed code is refused before anything is asked; one ticker's failure never stops the
    others (the batch answers each ticker on its own).
    """
    malformed = {t: f"{t!r} is not a KRX code ({FORM})" for t in tickers if not is_krx_code(t)}
    answers = await ctx.market.quotes([t for t in tickers if t not in malformed])
    quoted: dict[str, MarketQuote | str] = {}
    for ticker in tickers:
        answer = malformed.get(ticker) or answers.get(ticker)
        if answer is None:
            quoted[ticker] = "could not be quoted: the market data source gave no answer"
        elif isinstance(answer, TraderError):
            quoted[ticker] = f"could not be quoted: {answer}"
        elif isinstance(answer, MarketQuote) and answer.halted:
            quoted[ticker] = "trading is halted"
        else:
            quoted[ticker] = answer
    return quoted


async def _econ_events(ctx: SessionContext, day: date) -> tuple[str, ...]:
    if ctx.econ is None:
        return ()
    try:
        macro = await ctx.econ.macro(day, horizon_days=0)
    except TraderError as exc:
        log.warning("economic calendar unavailable: %s", exc)
        return ()
    return tuple(
        f"{r.name} ({r.date.isoformat()})" for r in macro.upcoming_us_releases if r.date == day
    )


RESUMABLE = frozenset(
    {
        SessionStatus.AWAITING_APPROVAL,
        SessionStatus.EXECUTING,
        SessionStatus.NO_ORDERS,
        SessionStatus.CLOSED,
        SessionStatus.DONE,
        SessionStatus.ANALYSIS_ONLY,
    }
)
"""Statuses at which a re-triggered thread carries on from where it is instead of starting over."""


def _retrigger(state: SessionState) -> dict[str, Any] | None:
    """Keep a session that is already under way (or done) as it is when it is triggered again.

    The thread id names the session, so a second trigger (the scheduler firing twice, a person
    running the command again, a new run on the same Studio thread) arrives with its input on a
    thread that already holds the session. Starting over would analyse and propose again; the
    graph instead routes from the status it finds (`trading_session.after_context`): back to
    the pending approval, on to the executor, or to the report. Only a session that failed
    before proposing orders (status `running`) is loaded again from scratch.
    """
    status = read_status(state)
    if "context" not in state or status is None or status not in RESUMABLE:
        return None
    data = read_context(state)
    log.info("session %s triggered again at status %s", data.thread_id, status)
    # The trigger's input overwrote these; the session is the one already on the thread.
    return {
        "portfolio": data.portfolio,
        "session_date": data.session_date.isoformat(),
        "phase": data.phase,
        "tickers": [*data.tickers, *(t for t in data.unknown_tickers if t not in data.tickers)],
        "status": status.value,
    }


def _held_elsewhere(
    holder: SessionHolder,
    portfolio: str,
    day: date,
    phase: str,
    tickers: tuple[str, ...],
) -> dict[str, Any]:
    """Stop a thread started for a session another thread holds: it proposes nothing.

    Studio and the SDK start every thread with a new id, so a second run of the same day is a
    second thread; trading on it would send the day's orders again. The state names the thread
    to open instead.
    """
    where = f" (status {holder.status.value})" if holder.status else ""
    notice = (
        f"session {thread_id_for(portfolio, day, phase)} is held by thread "
        f"{holder.thread_id}{where}; open that thread to approve or follow it"
    )
    log.warning("%s", notice)
    return {
        "portfolio": portfolio,
        "session_date": day.isoformat(),
        "phase": phase,
        "tickers": list(tickers),
        "status": SessionStatus.DUPLICATE.value,
        "duplicate_of": holder.thread_id,
        "notice": notice,
    }


async def load_context(state: SessionState, runtime: Runtime[SessionContext]) -> dict[str, Any]:
    """Resolve the session, reconcile the account, quote the watchlist and held tickers."""
    again = _retrigger(state)
    if again is not None:
        return again
    ctx = await session_context(runtime)
    portfolio, tickers = _portfolio_and_tickers(state, ctx)
    raw_day = state.get("session_date")
    day = date.fromisoformat(raw_day) if raw_day else kst_today(ctx.clock)
    phase = state.get("phase") or "regular"
    info = runtime.execution_info
    thread_id = (info.thread_id if info else None) or thread_id_for(portfolio, day, phase)
    today = kst_today(ctx.clock)
    # Asked before the run is recorded: a date outside the calendar stops here, unrecorded.
    # The venue's hours decide (the demo market trades today whatever the calendar says).
    trading = ctx.venue_hours.trades_on(day, today=today, is_trading_day=ctx.is_trading_day)
    # Only today's session trades; another date is analysed and reported, never executed.
    executable = day == today
    # One thread per session: a second thread (a Studio run, say) of today's session stops
    # here. Another date is analysed only and never trades, so it claims nothing.
    if executable:
        holder = await ctx.recorder.claim_session(
            thread_id=thread_id, portfolio=portfolio, session_date=day, phase=phase
        )
        if holder is not None:
            return _held_elsewhere(holder, portfolio, day, phase, tickers)
    run_id = await ctx.recorder.ensure_run(
        thread_id=thread_id, portfolio=portfolio, session_date=day, phase=phase
    )
    account = await ctx.broker.account_snapshot()
    held = tuple(p.ticker for p in account.positions if p.qty > 0)
    wanted = _normalise(tickers + held)
    answers = await _quote_all(ctx, wanted) if trading else {}
    quotes = {t: a for t, a in answers.items() if isinstance(a, MarketQuote)}
    unknown = {t: a for t, a in answers.items() if isinstance(a, str)}
    peak = await ctx.recorder.reconcile_book(
        portfolio, account.cash.deposit, account.cash.total_eval
    )
    if ctx.peak_equity_krw is not None:
        peak = max(peak, ctx.peak_equity_krw)
    data = SessionContextData(
        thread_id=thread_id,
        run_id=run_id,
        portfolio=portfolio,
        session_date=day,
        phase=phase,
        tickers=tuple(t for t in tickers if t not in unknown),
        trading_day=trading,
        executable=executable,
        portfolio_snapshot=portfolio_from_account(
            account, {t: q.prev_close_krw for t, q in quotes.items()}, peak
        ),
        market={
            t: MarketSnapshot(
                ticker=t,
                last_price_krw=q.last_price_krw,
                prev_close_krw=q.prev_close_krw,
                market=q.market,
                upper_limit_krw=q.upper_limit_krw,
                lower_limit_krw=q.lower_limit_krw,
            )
            for t, q in quotes.items()
        },
        unknown_tickers=unknown,
        econ_events=await _econ_events(ctx, day) if trading else (),
        valuations={
            t: Valuation(per=q.per, pbr=q.pbr)
            for t, q in quotes.items()
            if q.per is not None or q.pbr is not None
        },
    )
    return {
        "portfolio": portfolio,
        "session_date": day.isoformat(),
        "phase": phase,
        "tickers": list(tickers),
        "context": dump(data),
        "opinions": [RESET_OPINIONS],
        "status": session_status(trading=trading, executable=executable).value,
    }


def session_status(*, trading: bool, executable: bool) -> SessionStatus:
    """The status a freshly loaded session starts with."""
    if not trading:
        return SessionStatus.CLOSED
    return SessionStatus.RUNNING if executable else SessionStatus.ANALYSIS_ONLY
