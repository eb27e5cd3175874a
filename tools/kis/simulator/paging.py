"""Continuation as the real server does it, for the two kinds of paged TRs.

- Account inquiries carry their place in the body: ``ctx_area_fk100`` (the query, echoed) and
  ``ctx_area_nk100`` (the last key shown), both padded with spaces to 100 characters. The next
  request must send both back exactly as received (the official samples do); a trimmed or
  altered key is refused (`ctx_error`).
- News titles and financial statements carry no keys: the next page is asked with the same
  query and request header ``tr_cont: N``, and the server remembers where the previous page of
  that query ended (`CursorPages`). A ``tr_cont: N`` with no page before it is refused.

Response ``tr_cont``: "F" first page with more to come, "M" a later page with more, "D" a first
page that is also the last, "E" the last of several.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, TypeVar

from tools.kis.simulator import wire
from tools.kis.simulator.wire import Msg

T = TypeVar("T")


class Call(Protocol):
    """What paging reads of a request.

    The gateway's `Call` satisfies it; naming it here keeps paging free of the gateway, which
    imports the state that holds a `CursorPages`.
    """

    @property
    def tr_id(self) -> str:
        """The request's TR ID."""
        ...

    @property
    def tr_cont(self) -> str:
        """The request's tr_cont header ("N" asks for the next page)."""
        ...

    @property
    def params(self) -> dict[str, str]:
        """Query parameters, keys upper-cased."""
        ...

    def raw_param(self, key: str) -> str:
        """Return a query parameter exactly as sent."""
        ...


def cont_flag(first: bool, more: bool) -> str:
    """Return the response tr_cont of a page."""
    return ("F" if first else "M") if more else ("D" if first else "E")


def ctx_error(call: Call, fk: str, suffix: str = "100") -> Msg | None:
    """Refuse a next-page request whose continuation keys are not exactly as the server sent.

    Args:
        call: the request.
        fk: the unpadded ctx_area_fk value the server sends for this query.
        suffix: "100" for CTX_AREA_FK100/NK100.
    """
    if call.tr_cont != "N":
        return None
    fk_name, nk_name = f"CTX_AREA_FK{suffix}", f"CTX_AREA_NK{suffix}"
    if call.raw_param(fk_name) != wire.pad_ctx(fk):
        return wire.invalid_field(fk_name)
    nk = call.raw_param(nk_name)
    if len(nk) != 100 or nk != wire.pad_ctx(nk.rstrip()) or not nk.strip():
        return wire.invalid_field(nk_name)
    return None


class CursorPages:
    """Where each keyless paged query stopped, so ``tr_cont: N`` gets the rows after it."""

    def __init__(self) -> None:
        """Start with no open query."""
        self._next: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        self._lock = threading.Lock()

    def page(self, call: Call, rows: Sequence[T], size: int) -> tuple[list[T], str] | Msg:
        """Return (rows of this page, response tr_cont), or the refusal of a stray next page."""
        key = (call.tr_id, tuple(sorted(call.params.items())))
        with self._lock:
            if call.tr_cont == "N":
                start = self._next.get(key)
                if start is None:
                    return wire.BAD_INPUT
            else:
                start = 0
            more = start + size < len(rows)
            if more:
                self._next[key] = start + size
            else:
                self._next.pop(key, None)
        return list(rows[start : start + size]), cont_flag(start == 0, more)
