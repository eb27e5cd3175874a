"""How the backtest's broker costs and fills: the cost mode and the venue rules it turns on.

`CostMode.KRX` (the default) is KRX as traded; `CostMode.PARITY` is backtesting.py's arithmetic,
to prove the engine against an independent library (see `evals.backtest.broker`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from evals.backtest.slippage import NoSlippage, SlippageModel
from tools.krx.costs import DEFAULT_COMMISSION_RATE, CostModel
from tools.krx.rules import Market
from tools.krx.venue import DEFAULT_MAX_VOLUME_SHARE, FillRules


class CostMode(StrEnum):
    """How costs are rounded and which KRX rules apply by default."""

    KRX = "krx"
    PARITY = "parity"


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Costs and market rules of the simulated broker."""

    cost_mode: CostMode = CostMode.KRX
    commission_rate: Decimal = DEFAULT_COMMISSION_RATE
    charge_tax: bool = True
    enforce_ticks: bool = True
    enforce_price_limits: bool = True
    block_locked_limit: bool = True
    skip_zero_volume: bool = True
    max_volume_share: Decimal | None = DEFAULT_MAX_VOLUME_SHARE
    """Share of a bar's volume one fill may take (the rest lapses); None: no cap. Why a tenth:
    `tools.krx.venue.fills.DEFAULT_MAX_VOLUME_SHARE`."""
    slippage: SlippageModel = field(default_factory=NoSlippage)
    markets: Mapping[str, Market] = field(default_factory=dict)
    default_market: Market = Market.KOSPI

    @classmethod
    def parity(cls, commission_rate: Decimal = DEFAULT_COMMISSION_RATE) -> BrokerConfig:
        """Return backtesting.py's settings: fractional commission, no tax, no KRX checks."""
        return cls(
            cost_mode=CostMode.PARITY,
            commission_rate=commission_rate,
            charge_tax=False,
            enforce_ticks=False,
            enforce_price_limits=False,
            block_locked_limit=False,
            max_volume_share=None,
        )

    def market(self, ticker: str) -> Market:
        """Return the listing market of `ticker`."""
        return self.markets.get(ticker, self.default_market)

    @property
    def fill_rules(self) -> FillRules:
        """The venue model's realism rules this configuration turns on."""
        return FillRules(
            max_volume_share=self.max_volume_share,
            block_locked_limit=self.block_locked_limit,
            skip_zero_volume=self.skip_zero_volume,
        )

    @property
    def cost_model(self) -> CostModel:
        """The venue model's costs at this configuration's rate."""
        return CostModel(commission_rate=self.commission_rate, charge_tax=self.charge_tax)
