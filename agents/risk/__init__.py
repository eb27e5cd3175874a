"""The deterministic risk gate: turns signals into sized, valid orders, or says why not.

No LLM takes part in the limits. `propose_orders` is a pure function of the signals, the
portfolio, the market snapshot and the `RiskLimits`; `recheck_edit` puts an approver's edit
back through the same rules. Every clamp and denial is a `RiskDecision` in the report.
"""

from agents.risk.exits import exit_orders
from agents.risk.gate import propose_orders, recheck_edit
from agents.risk.limits import RiskLimits
from agents.risk.models import (
    EditResult,
    Holding,
    MarketSnapshot,
    OrderOrigin,
    PortfolioSnapshot,
    ProposedOrder,
    RiskCode,
    RiskDecision,
    RiskReport,
    make_client_order_id,
)

__all__ = [
    "EditResult",
    "Holding",
    "MarketSnapshot",
    "OrderOrigin",
    "PortfolioSnapshot",
    "ProposedOrder",
    "RiskCode",
    "RiskDecision",
    "RiskLimits",
    "RiskReport",
    "exit_orders",
    "make_client_order_id",
    "propose_orders",
    "recheck_edit",
]
