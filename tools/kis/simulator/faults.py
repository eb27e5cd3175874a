"""Fault injection, switchable per test: make the next matching requests misbehave.

Kinds:
- ``http_500``: answer HTTP 500 with a plain-text body (a proxy or server failure).
- ``timeout``: hold the answer for `timeout_delay_s` (or until the server stops). With
  ``after_processing=True`` the request is carried out first (an order is accepted), so only the
  answer is lost; otherwise nothing happens and the late answer is a 504.
- ``malformed_json``: answer 200 with a truncated JSON body.
- ``revoke_tokens``: every live token expires just before the request is checked (EGW00123).
- ``invalidate_tokens``: every live token is revoked just before the request is checked, as KIS
  does at its maintenance (EGW00121). Unlike ``revoke_tokens`` the issuance times are kept, so
  a new token within `token_min_interval_s` of the last one is refused (EGW00133).
- ``rate_limit_burst``: answer EGW00201 as if the per-second limit had been hit.
- ``query_again``: a continuation request of a paged inquiry (request ``tr_cont: N``) answers
  SYDB0050 "조회이후에 자료가 변경되었습니다.(다시 조회하세요)": the books changed since the
  first page, so the keys of the previous page are void and the query must start over. Only
  continuation requests take this fault; first pages pass.
- ``order_list_lag``: the next order accepted (order-cash) stays out of inquire-daily-ccld for
  `lag_s` seconds of the simulator's clock and for `lag_lookups` inquiries (both must pass),
  as KIS warns today's list may lag ("당일 주문내역은 지연될 수 있습니다").

`after_processing` also applies to http_500 and malformed_json (the request is carried out and
then its answer is replaced). A fault with `path` matches requests whose path ends with it.

"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args

FaultKind = Literal[
    "http_500",
    "timeout",
    "malformed_json",
    "revoke_tokens",
    "invalidate_tokens",
    "rate_limit_burst",
    "query_again",
    "order_list_lag",
]
KINDS: frozenset[str] = frozenset(get_args(FaultKind))
_NOT_AT_GATEWAY = frozenset({"query_again", "order_list_lag"})
"""Kinds taken where they act (a continuation page, an accepted order), not at the gateway."""


@dataclass(slots=True)
class Fault:
    """One armed fault."""

    kind: FaultKind
    path: str | None
    remaining: int
    after_processing: bool
    lag_s: float = 0.0
    lag_lookups: int = 0


@dataclass(slots=True)
class _Hidden:
    """An order kept out of the daily list: until `until` and for `lookups` more inquiries."""

    until: datetime
    lookups: int


class FaultInjector:
    """The armed faults of one simulator; thread-safe."""

    def __init__(self) -> None:
        """Start with nothing armed."""
        self._faults: list[Fault] = []
        self._hidden: dict[str, _Hidden] = {}
        self._lock = threading.Lock()
        self.fired: Counter[str] = Counter()
        """How many times each kind acted (a soak prints it)."""

    def inject(
        self,
        kind: FaultKind,
        path: str | None = None,
        count: int = 1,
        after_processing: bool = False,
        *,
        lag_s: float = 0.0,
        lag_lookups: int = 0,
    ) -> None:
        """Arm a fault for the next `count` requests (whose path ends with `path`, if given)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if lag_s < 0 or lag_lookups < 0:
            raise ValueError("lag_s and lag_lookups must not be negative")
        with self._lock:
            self._faults.append(Fault(kind, path, count, after_processing, lag_s, lag_lookups))

    def clear(self) -> None:
        """Disarm every fault and show every hidden order again."""
        with self._lock:
            self._faults.clear()
            self._hidden.clear()

    def armed(self) -> list[Fault]:
        """Return the faults still armed (copies)."""
        with self._lock:
            return [
                Fault(f.kind, f.path, f.remaining, f.after_processing, f.lag_s, f.lag_lookups)
                for f in self._faults
            ]

    def _take(self, path: str, kinds: frozenset[str] | None) -> Fault | None:
        for fault in self._faults:
            wanted = fault.kind not in _NOT_AT_GATEWAY if kinds is None else fault.kind in kinds
            if wanted and (fault.path is None or path.endswith(fault.path)):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                self.fired[fault.kind + (":after" if fault.after_processing else "")] += 1
                return fault
        return None

    def take(self, path: str) -> Fault | None:
        """Return (and use up one count of) the first gateway fault matching a request path."""
        with self._lock:
            return self._take(path, None)

    def take_query_again(self, path: str) -> bool:
        """Tell whether a continuation request on `path` must answer SYDB0050 (uses one)."""
        with self._lock:
            return self._take(path, frozenset({"query_again"})) is not None

    def order_accepted(self, path: str, odno: str, now: datetime) -> None:
        """Hide a just-accepted order from the daily list when an order_list_lag is armed."""
        with self._lock:
            fault = self._take(path, frozenset({"order_list_lag"}))
            if fault is not None:
                self._hidden[odno] = _Hidden(
                    now + timedelta(seconds=fault.lag_s), fault.lag_lookups
                )

    def visible(self, odnos: list[str], now: datetime) -> set[str]:
        """Return the order numbers a daily-list inquiry may show now (counts one lookup)."""
        with self._lock:
            hidden: set[str] = set()
            for odno in odnos:
                lag = self._hidden.get(odno)
                if lag is None:
                    continue
                if now >= lag.until and lag.lookups <= 0:
                    del self._hidden[odno]
                    continue
                lag.lookups = max(0, lag.lookups - 1)
                hidden.add(odno)
            return set(odnos) - hidden


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
