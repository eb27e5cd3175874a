"""Economic-data clients: Bank of Korea ECOS, FRED and OpenDART, with their simulated twin.

The clients are async (httpx, injected transport), return typed Pydantic models, raise the
grouped errors of `tools.econ.errors`, and never log or quote their API keys. The snapshot
helpers (`tools.econ.snapshot`) combine them into the as-of-date views the fundamental agent
and the backtester use.
"""

from tools.econ.dart import DartClient
from tools.econ.ecos import EcosClient
from tools.econ.errors import (
    EconConfigurationError,
    EconError,
    EconRateLimitError,
    EconRequestError,
    EconResponseError,
    EconUnavailableError,
)
from tools.econ.fred import FredClient
from tools.econ.http import RetryPolicy

__all__ = [
    "DartClient",
    "EconConfigurationError",
    "EconError",
    "EconRateLimitError",
    "EconRequestError",
    "EconResponseError",
    "EconUnavailableError",
    "EcosClient",
    "FredClient",
    "RetryPolicy",
]
