"""Fault injection, switchable per test: make the next matching requests misbehave.

Kinds:
- ``http_500``: answer HTTP 500 with a plain-text body (a proxy or server failure).
- ``timeout``: hold the answer for `timeout_delay_s` (or until the server stops). With
  ``after_processing=True`` the request is carried out first (an order is accepted), so only the
  answer is lost; otherwise nothing happens and the late answer is a 504.
- ``malformed_json``: answer 200 with a truncated JSON body.
- ``revoke_tokens``: every live token expires just before the request is checked (EGW00123).
- ``rate_limit_burst``: answer EGW00201 as if the per-second limit had been hit.

`after_processing` also applies to http_500 and malformed_json (the request is carried out and
then its answer is replaced). A fault with `path` matches requests whose path ends with it.

`lag_order_list(n)` is not a request fault but a slow list: every order accepted from then on
is missing from the next `n` answers of inquire-daily-ccld that would list it (KIS notes that
today's orders may show up late; a lag of six lookups was seen).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["http_500", "timeout", "malformed_json", "revoke_tokens", "rate_limit_burst"]
KINDS: frozenset[str] = frozenset(
    {"http_500", "timeout", "malformed_json", "revoke_tokens", "rate_limit_burst"}
)


@dataclass(slots=True)
class Fault:
    """One armed fault."""

    kind: FaultKind
    path: str | None
    remaining: int
    after_processing: bool


class FaultInjector:
    """The armed faults of one simulator; thread-safe."""

    def __init__(self) -> None:
        """Start with nothing armed."""
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._list_lag = 0
        self._unlisted: dict[str, int] = {}

    def lag_order_list(self, lookups: int) -> None:
        """Leave each order accepted from now on out of its next `lookups` listings (0: off)."""
        if lookups < 0:
            raise ValueError("lookups cannot be negative")
        with self._lock:
            self._list_lag = lookups

    def order_accepted(self, odno: str) -> None:
        """Note a new order, which a lagging list leaves out for a while."""
        with self._lock:
            if self._list_lag:
                self._unlisted[odno] = self._list_lag

    def unlisted(self, odnos: list[str]) -> set[str]:
        """Return which of the orders a listing leaves out this time (and count the look)."""
        with self._lock:
            hidden = set()
            for odno in odnos:
                left = self._unlisted.get(odno, 0)
                if left > 0:
                    hidden.add(odno)
                    self._unlisted[odno] = left - 1
            return hidden

    def inject(
        self,
        kind: FaultKind,
        path: str | None = None,
        count: int = 1,
        after_processing: bool = False,
    ) -> None:
        """Arm a fault for the next `count` requests (whose path ends with `path`, if given)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(Fault(kind, path, count, after_processing))

    def clear(self) -> None:
        """Disarm every fault (and stop lagging the order list)."""
        with self._lock:
            self._faults.clear()
            self._list_lag = 0
            self._unlisted.clear()

    def take(self, path: str) -> Fault | None:
        """Return (and use up one count of) the first fault matching a request path."""
        with self._lock:
            for fault in self._faults:
                if fault.path is None or path.endswith(fault.path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


@dataclass
class SimulatorStats:
    """Counters a test can read: what the simulated KIS saw and answered."""

    token_requests: int = 0
    requests_by_path: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    """EGW00201 answers."""
    orders: int = 0
    """Accepted order-cash requests."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self, path: str) -> None:
        """Count one request to `path`."""
        with self._lock:
            self.requests_by_path[path] += 1
            if path == "/oauth2/tokenP":
                self.token_requests += 1

    def count_rate_limited(self) -> None:
        """Count one EGW00201 answer."""
        with self._lock:
            self.rate_limited += 1

    def count_order(self) -> None:
        """Count one accepted order."""
        with self._lock:
            self.orders += 1
