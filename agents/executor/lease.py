"""The executor lease: at most one executor per session, decided by the database.

Two processes can resume one waiting session at once (two approvers, an approval and a
re-triggered `trader session run`, Studio and the CLI). Each passes the "is it waiting?" check
before the other has written anything, so only the database can tell them apart: the run row
carries a lease (`runs.executor_holder`, `runs.executor_lease_until`) that an executor takes by
compare-and-set before it reads or sends anything, renews while it follows fills, and frees at
the end. The one that fails to take it raises `ExecutorBusyError` and sends nothing.

The lease lapses if its holder dies (a kill, a crash, a lost machine), so a resume can proceed
after `SessionContext.executor_lease_ttl`. A holder that stalls past its lease and finds it
taken over stops at its next renewal; the order rows' own compare-and-set
(`approved` -> `submitting`) keeps even that case from sending an order twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from types import TracebackType

from agents.context import SessionContext, new_holder
from core.errors import ConfigurationError, ExecutorBusyError
from db.run_lease import LeaseAnswer, RunLeases

log = logging.getLogger(__name__)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


class ExecutorLease:
    """The executor lease of one run, held for the life of an `async with` block."""

    def __init__(
        self, ctx: SessionContext, run_id: int, thread_id: str, holder: str | None = None
    ) -> None:
        """Name the run; `holder` defaults to a fresh `new_holder()`."""
        self.ctx = ctx
        self.run_id = run_id
        self.thread_id = thread_id
        self.holder = holder or new_holder()
        self.leases = RunLeases(ctx.sessions)

    def _until(self) -> datetime:
        return self.ctx.clock.now() + self.ctx.executor_lease_ttl

    def _take(self) -> LeaseAnswer:
        return self.leases.take(
            self.run_id, self.holder, now=self.ctx.clock.now(), until=self._until()
        )

    def _renew(self) -> LeaseAnswer:
        return self.leases.renew(self.run_id, self.holder, until=self._until())

    def _release(self) -> None:
        self.leases.release(self.run_id, self.holder)

    async def __aenter__(self) -> ExecutorLease:
        """Take the lease, or raise `ExecutorBusyError` (nothing has been sent)."""
        taken, holder, until = await asyncio.to_thread(self._take)
        if not taken:
            if holder is None:
                raise ConfigurationError(f"session {self.thread_id} has no run row to execute")
            raise ExecutorBusyError(self.thread_id, holder, _iso(until))
        log.debug("executor lease of %s taken by %s", self.thread_id, self.holder)
        return self

    async def keep(self) -> None:
        """Hold the lease on: renew it, or take it again if it was freed meanwhile.

        The executor inside a runner's continuation frees it under the same holder name.

        Raises:
            ExecutorBusyError: another process holds it.
        """
        taken, holder, until = await asyncio.to_thread(self._take)
        if not taken:
            raise ExecutorBusyError(self.thread_id, holder, _iso(until), lost=True)

    async def renew(self) -> None:
        """Extend the lease; raise `ExecutorBusyError` if another process took it over."""
        kept, holder, until = await asyncio.to_thread(self._renew)
        if not kept:
            raise ExecutorBusyError(self.thread_id, holder, _iso(until), lost=True)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Free the lease; a failure to free it is logged (it lapses by itself)."""
        try:
            await asyncio.to_thread(self._release)
        except Exception:
            log.warning("could not free the executor lease of %s", self.thread_id, exc_info=True)
