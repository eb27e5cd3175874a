"""What the simulated services know beyond their data: the keys, the date, and injected faults.

Faults are explicit states of the simulated world, like a maintenance window or an exhausted
daily quota, set by whoever runs the simulator (a demo, a test of retry behaviour). They are
not answers tailored to a request: every request is judged against the same state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from tools.econ.simulator.macro_data import DATA_END

ECOS_SIM_KEY = "SIMECOS0KEY000000001"
"""A key in ECOS's shape (20 upper-case letters and digits)."""
FRED_SIM_KEY = "0123456789abcdef0123456789abcdef"
"""A key in FRED's shape (32 lower-case letters and digits)."""
DART_SIM_KEY = "0123456789abcdef0123456789abcdef01234567"
"""A key in OpenDART's shape (40 characters)."""


class Service(StrEnum):
    """The three simulated services."""

    ECOS = "ecos"
    FRED = "fred"
    DART = "dart"


@dataclass
class ServiceFaults:
    """Faults of one service.

    Attributes:
        outage_requests: the next N requests meet a maintenance/server error.
        quota: requests left before the service's rate-limit error (None = unlimited).
    """

    outage_requests: int = 0
    quota: int | None = None


@dataclass
class SimulatorKeys:
    """The keys each simulated service accepts.

    Attributes:
        dart_key_status: further OpenDART keys and the status they meet, e.g. ``{"k": "901"}``
            for an expired key, ``"011"`` for a suspended one, ``"012"`` for a refused IP.
    """

    ecos: str = ECOS_SIM_KEY
    fred: str = FRED_SIM_KEY
    dart: str = DART_SIM_KEY
    dart_key_status: dict[str, str] = field(default_factory=dict)


class SimulatorState:
    """Keys, today's date and faults, shared by the three simulated services (thread-safe)."""

    def __init__(self, keys: SimulatorKeys | None = None, today: date = DATA_END) -> None:
        """Start with no fault; `today` bounds what has been published."""
        self.keys = keys or SimulatorKeys()
        self.today = today
        self.faults = {service: ServiceFaults() for service in Service}
        self.requests = dict.fromkeys(Service, 0)
        self._lock = threading.Lock()

    def set_outage(self, service: Service, requests: int) -> None:
        """Make the next `requests` requests to `service` meet its maintenance error."""
        with self._lock:
            self.faults[service].outage_requests = requests

    def set_quota(self, service: Service, requests: int | None) -> None:
        """Allow `requests` more requests to `service` before its rate-limit error."""
        with self._lock:
            self.faults[service].quota = requests

    def outage(self, service: Service) -> bool:
        """Count one request; tell whether it falls in an outage (checked before the key)."""
        with self._lock:
            self.requests[service] += 1
            faults = self.faults[service]
            if faults.outage_requests > 0:
                faults.outage_requests -= 1
                return True
            return False

    def rate_limited(self, service: Service) -> bool:
        """Spend one unit of quota of an authenticated request; True when none is left."""
        with self._lock:
            faults = self.faults[service]
            if faults.quota is None:
                return False
            if faults.quota <= 0:
                return True
            faults.quota -= 1
            return False
