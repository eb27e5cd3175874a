"""The clock the CLI runs sessions on: the wall clock (tests replace `session_clock`).

One place, so that the session date, the thread id, the simulator's market and the approval
expiry all read the same time.
"""

from __future__ import annotations

from core.clock import Clock, SystemClock


def session_clock() -> Clock:
    """Return the clock for a command's sessions."""
    return SystemClock()
