"""The numbers the risk gate enforces, in one frozen model.

Percentages are `Decimal` percent (``Decimal("10")`` is 10 %), money is int KRW. The defaults
suit a 100,000,000 KRW paper account and are declared here only: the `RISK_*` settings default
to them, and the shell hands the settings' values down as one `RiskLimits`
(`trader.settings.Settings.risk_limits`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Percent = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]


class RiskLimits(BaseModel):
    """Limits of one portfolio; immutable so a session cannot loosen them halfway."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_order_krw: int = Field(default=5_000_000, gt=0)
    """Largest value of one discretionary order (qty x limit price). Protective exits are exempt."""
    max_ticker_exposure_pct: Percent = Decimal(10)
    """Held value plus pending buys of one ticker, as a percentage of equity."""
    max_gross_exposure_pct: Percent = Decimal(80)
    """Value of all positions plus pending buys, as a percentage of equity (100 = no leverage)."""
    min_cash_buffer_krw: int = Field(default=1_000_000, ge=0)
    """Cash that buys may never spend (fees, settlement surprises)."""
    daily_loss_halt_pct: Percent = Decimal(3)
    """New buys stop when equity is this far below the start-of-day equity."""
    drawdown_halt_pct: Percent = Decimal(15)
    """New buys stop when equity is this far below its peak."""
    stop_loss_pct: Annotated[Decimal, Field(gt=0, lt=100, allow_inf_nan=False)] = Decimal(7)
    """Sell a whole position once its price is this far below its average cost."""
    take_profit_pct: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] = Decimal(20)
    """Sell a whole position once its price is this far above its average cost."""
    max_orders_per_session: int = Field(default=20, gt=0)
    """Orders one session may propose; exits are never cut by it but do use up slots."""
    volatility_target_pct: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] = Decimal(2)
    """Daily volatility at which a full-conviction buy gets its full budget; a more volatile
    ticker gets budget x target / volatility."""
    min_top_up_pct: Annotated[Decimal, Field(ge=0, lt=100, allow_inf_nan=False)] = Decimal(20)
    """A held position is topped up only when it lacks at least this share of its target: a
    small price move does not buy one more share every day (0: always top up)."""

    @model_validator(mode="after")
    def _ticker_within_gross(self) -> RiskLimits:
        if self.max_ticker_exposure_pct > self.max_gross_exposure_pct:
            raise ValueError("max_ticker_exposure_pct cannot exceed max_gross_exposure_pct")
        return self
