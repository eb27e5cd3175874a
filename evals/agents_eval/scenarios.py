"""A scenario: one dated decision, the facts known that day, and what happened next.

The target sees `bars` (each ticker's history up to and including `as_of`, nothing later),
the recorded economic data usable that day (`econ`), and the book (`cash_krw`, `holdings`).
The evaluators see the outcome: each ticker's close-to-close return over the next `horizon`
trading days, and what a sound session must do with the ticker (`expect`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from evals.backtest.data import Bars
from tools.econ.source import EconSource
from tools.krx.rules import Market

DEFAULT_CASH_KRW = 100_000_000


class Expect(StrEnum):
    """What a sound session does with a ticker of a scenario."""

    JUDGED = "judged"
    """Its data is usable: the analysts judge it (an ok signal)."""
    NOT_JUDGED = "not_judged"
    """Its data is not usable (halted, missing, too short): no ok signal and no new order."""


@dataclass(frozen=True)
class Holding:
    """Shares held before the scenario's day, and what they cost in total (KRW)."""

    qty: int
    cost_krw: int


@dataclass(frozen=True)
class Scenario:
    """One dated input with the facts known at that date, and its outcome."""

    id: str
    kind: str
    """`history` (real prices) or `edge` (a synthetic edge case)."""
    description: str
    as_of: date
    bars: tuple[Bars, ...]
    """Each ticker's bars dated on or before `as_of` (the last may be missing for a ticker)."""
    returns: Mapping[str, float | None]
    """Close-to-close return from `as_of` over the next `horizon` trading days (None: unknown)."""
    horizon: int
    markets: Mapping[str, Market] = field(default_factory=dict)
    econ: EconSource | None = None
    cash_krw: int = DEFAULT_CASH_KRW
    holdings: Mapping[str, Holding] = field(default_factory=dict)
    expect: Mapping[str, Expect] = field(default_factory=dict)

    def __post_init__(self) -> None:
        late = [b.ticker for b in self.bars if len(b) and b.dates[-1].item() > self.as_of]
        if late:
            raise ValueError(f"{self.id}: bars after {self.as_of} for {', '.join(late)}")

    @property
    def tickers(self) -> tuple[str, ...]:
        """The tickers the session analyses."""
        return tuple(b.ticker for b in self.bars)

    def inputs(self) -> dict[str, Any]:
        """The example's inputs as LangSmith stores them: what the scenario is, not its data."""
        return {
            "scenario": self.id,
            "kind": self.kind,
            "as_of": self.as_of.isoformat(),
            "tickers": list(self.tickers),
            "description": self.description,
        }

    def reference(self) -> dict[str, Any]:
        """The example's reference outputs: the outcome and the expectations."""
        return {
            "horizon": self.horizon,
            "returns": dict(self.returns),
            "expect": {t: e.value for t, e in self.expect.items()},
        }


@dataclass(frozen=True)
class Dataset:
    """Named, versioned scenarios. Bump `version` whenever a scenario or an outcome changes."""

    name: str
    version: str
    description: str
    scenarios: tuple[Scenario, ...]

    def __post_init__(self) -> None:
        ids = [s.id for s in self.scenarios]
        if len(set(ids)) != len(ids):
            raise ValueError(f"dataset {self.name}: scenario ids are not unique")

    def by_id(self, scenario_id: str) -> Scenario:
        """Return one scenario."""
        for scenario in self.scenarios:
            if scenario.id == scenario_id:
                return scenario
        raise KeyError(scenario_id)
