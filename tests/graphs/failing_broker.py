"""A broker whose account read fails until told otherwise (an outage at the session start)."""

from __future__ import annotations

from datetime import date

from core.errors import TemporaryError
from tools.broker import AccountSnapshot, Broker, Execution, OrderAck, OrderRequest


class FlakyAccountBroker:
    """Delegates to a real broker, but `account_snapshot` fails while `down` is true."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner
        self.down = True

    async def account_snapshot(self) -> AccountSnapshot:
        if self.down:
            raise TemporaryError("the broker's balance inquiry is unavailable")
        return await self.inner.account_snapshot()

    async def place(self, order: OrderRequest) -> OrderAck:
        return await self.inner.place(order)

    async def cancel(self, client_order_id: str) -> OrderAck:
        return await self.inner.cancel(client_order_id)

    async def executions(self, day: date) -> list[Execution]:
        return await self.inner.executions(day)
