"""The collector: KIS daily bars and ratios, OpenDART reports, ECOS/FRED series, into our database.

`Collector.run` streams tickers through a bounded pool (`run`); per ticker, bars (`bars`) and
company figures (`fundamentals`) are fetched only where the database lacks them; the economic
series (`econ`) once per run. `trader data collect` is its command line.
"""

from datastore.collector.bars import BarOutcome, last_closed_session
from datastore.collector.run import (
    CollectOptions,
    Collector,
    CollectReport,
    TickerDone,
    default_since,
)

__all__ = [
    "BarOutcome",
    "CollectOptions",
    "CollectReport",
    "Collector",
    "TickerDone",
    "default_since",
    "last_closed_session",
]
