"""Financial statements and ratios (real server only), deterministic per ticker and period.

Amounts are in 억원 with two decimals and ratios in percent, under the documented field names.
The numbers are plausible, not real: sales scale with the instrument's `revenue_100m` and move
a few percent a period; the other lines are fixed-ish shares of sales. ETFs have no statements.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from starlette.responses import Response

from core.clock import KST
from tools.kis.simulator import wire
from tools.kis.simulator.fields import dec
from tools.kis.simulator.gateway import Call
from tools.kis.simulator.instruments import Instrument
from tools.kis.simulator.routes_quotes import ok
from tools.kis.simulator.state import SimulatorState

YEARS = 5
QUARTERS = 8
FINANCE_ROWS = 30
"""Rows a page (more follow with ``tr_cont: N``; the real page size was not found)."""
REPORT_LAG = timedelta(days=60)
"""A period's statements appear this long after it ends."""


@dataclass(frozen=True, slots=True)
class Period:
    """One period's statements, in 억원."""

    yymm: str
    sales: Decimal
    cost: Decimal
    sga: Decimal
    depr: Decimal
    non_op_in: Decimal
    non_op_out: Decimal
    assets: Decimal
    liabilities: Decimal
    capital_stock: Decimal

    @property
    def gross(self) -> Decimal:
        """Gross profit."""
        return self.sales - self.cost

    @property
    def operating(self) -> Decimal:
        """Operating profit."""
        return self.gross - self.sga

    @property
    def ordinary(self) -> Decimal:
        """Ordinary (pre-tax) profit."""
        return self.operating + self.non_op_in - self.non_op_out

    @property
    def net(self) -> Decimal:
        """Net profit after an assumed 22 % tax."""
        return (self.ordinary * Decimal("0.78")).quantize(Decimal("0.01"))

    @property
    def equity(self) -> Decimal:
        """Total equity."""
        return self.assets - self.liabilities


def _period_ends(today: date, quarterly: bool) -> list[date]:
    """Return period end dates, oldest first, one extra at the start for growth rates."""
    cutoff = today - REPORT_LAG
    ends: list[date] = []
    year, month = cutoff.year, 12
    while len(ends) < (QUARTERS if quarterly else YEARS) + 1:
        end = (date(year, month % 12 + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(1)
        if end <= cutoff:
            ends.append(end)
        month -= 3 if quarterly else 12
        if month <= 0:
            month += 12
            year -= 1
    return sorted(ends)


def _periods(inst: Instrument, seed: int, today: date, quarterly: bool) -> list[Period]:
    out = []
    for end in _period_ends(today, quarterly):
        rng = random.Random(f"{seed}:fin:{inst.ticker}:{end:%Y%m}")
        years = Decimal(end.year - 2020) + Decimal(end.month) / 12
        level = Decimal(inst.revenue_100m) * (1 + Decimal("0.04") * years)
        sales = level * Decimal(str(round(rng.uniform(0.9, 1.1), 4))) / (4 if quarterly else 1)
        assets = level * Decimal("1.4") * Decimal(str(round(rng.uniform(0.97, 1.03), 4)))
        out.append(
            Period(
                end.strftime("%Y%m"),
                sales,
                sales * Decimal(str(round(rng.uniform(0.55, 0.7), 4))),
                sales * Decimal(str(round(rng.uniform(0.12, 0.2), 4))),
                sales * Decimal("0.05"),
                sales * Decimal("0.02"),
                sales * Decimal("0.015"),
                assets,
                assets * Decimal(str(round(rng.uniform(0.25, 0.4), 4))),
                Decimal(inst.listed_shares * inst.par_value) / 100_000_000,
            )
        )
    return out


def _growth(now: Decimal, before: Decimal) -> str:
    return dec((now - before) * 100 / abs(before)) if before else "0.00"


def _row(kind: str, p: Period, prev: Period, inst: Instrument) -> dict[str, str]:
    shares = Decimal(inst.listed_shares)
    surplus = p.equity * Decimal("0.1")
    row = {"stac_yymm": p.yymm}
    if kind == "balance-sheet":
        row |= {
            "cras": dec(p.assets * Decimal("0.4")),
            "fxas": dec(p.assets * Decimal("0.6")),
            "total_aset": dec(p.assets),
            "flow_lblt": dec(p.liabilities * Decimal("0.7")),
            "fix_lblt": dec(p.liabilities * Decimal("0.3")),
            "total_lblt": dec(p.liabilities),
            "cpfn": dec(p.capital_stock),
            "cfp_surp": dec(surplus),
            "prfi_surp": dec(p.equity - p.capital_stock - surplus),
            "total_cptl": dec(p.equity),
        }
    elif kind == "income-statement":
        row |= {
            "sale_account": dec(p.sales),
            "sale_cost": dec(p.cost),
            "sale_totl_prfi": dec(p.gross),
            "depr_cost": dec(p.depr),
            "sell_mang": dec(p.sga),
            "bsop_prti": dec(p.operating),
            "bsop_non_ernn": dec(p.non_op_in),
            "bsop_non_expn": dec(p.non_op_out),
            "op_prfi": dec(p.ordinary),
            "spec_prfi": "0.00",
            "spec_loss": "0.00",
            "thtr_ntin": dec(p.net),
        }
    elif kind == "financial-ratio":
        row |= {
            "grs": _growth(p.sales, prev.sales),
            "bsop_prfi_inrt": _growth(p.operating, prev.operating),
            "ntin_inrt": _growth(p.net, prev.net),
            "roe_val": dec(p.net * 100 / p.equity),
            "eps": dec(p.net * 100_000_000 / shares),
            "sps": dec(p.sales * 100_000_000 / shares),
            "bps": dec(p.equity * 100_000_000 / shares),
            "rsrv_rate": dec((p.equity - p.capital_stock) * 100 / p.capital_stock)
            if p.capital_stock
            else "0.00",
            "lblt_rate": dec(p.liabilities * 100 / p.equity),
        }
    elif kind == "profit-ratio":
        row |= {
            "cptl_ntin_rate": dec(p.net * 100 / p.assets),
            "self_cptl_ntin_inrt": dec(p.net * 100 / p.equity),
            "sale_ntin_rate": dec(p.net * 100 / p.sales),
            "sale_totl_rate": dec(p.gross * 100 / p.sales),
        }
    elif kind == "stability-ratio":
        crnt = p.assets * Decimal("0.4") * 100 / (p.liabilities * Decimal("0.7"))
        row |= {
            "lblt_rate": dec(p.liabilities * 100 / p.equity),
            "bram_depn": dec(Decimal("12.5")),
            "crnt_rate": dec(crnt),
            "quck_rate": dec(crnt * Decimal("0.8")),
        }
    elif kind == "growth-ratio":
        row |= {
            "grs": _growth(p.sales, prev.sales),
            "bsop_prfi_inrt": _growth(p.operating, prev.operating),
            "equt_inrt": _growth(p.equity, prev.equity),
            "totl_aset_inrt": _growth(p.assets, prev.assets),
        }
    else:  # other-major-ratios
        ebitda = p.operating + p.depr
        row |= {
            "payout_rate": dec(Decimal("25")),
            "eva": dec(p.operating * Decimal("0.3")),
            "ebitda": dec(ebitda),
            "ev_ebitda": dec(p.assets / ebitda) if ebitda else "0.00",
        }
    return row


def finance(state: SimulatorState, call: Call) -> Response:
    """FHKST6643xx00: one row per period, newest first."""
    inst = state.market.instrument(call.param("FID_INPUT_ISCD"))
    if inst is None:
        return wire.error_response(wire.NO_SUCH_STOCK, tr_id=call.tr_id)
    kind = call.path.rsplit("/", 1)[-1]
    if inst.is_etf or not inst.revenue_100m:
        return ok(call, output=[], tr_cont="D")
    today = datetime.fromtimestamp(call.now.timestamp(), KST).date()
    periods = _periods(inst, state.cfg.seed, today, call.param("FID_DIV_CLS_CODE") == "1")
    rows = [_row(kind, p, prev, inst) for prev, p in itertools.pairwise(periods)][::-1]
    paged = state.cursors.page(call, rows, state.cfg.page_size or FINANCE_ROWS)
    if isinstance(paged, wire.Msg):
        return wire.error_response(paged, tr_id=call.tr_id)
    chunk, cont = paged
    return ok(call, output=chunk, tr_cont=cont)
