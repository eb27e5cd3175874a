"""The paper broker: the `Broker` protocol on a simulated account that fills against market data.

`TRADING_MODE=paper` trades here; nothing leaves the machine. See `tools.paper.broker` for the
behaviour, `tools.paper.matching` for the fill model and `tools.paper.checks` for the rejection
rules and their reason codes.
"""

from tools.paper.broker import PaperBroker
from tools.paper.store import PaperStore

__all__ = ["PaperBroker", "PaperStore"]
