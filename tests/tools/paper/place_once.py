"""Place one paper order in a process of its own, and print the broker's answer as JSON.

Run as ``python -m tests.tools.paper.place_once STORE_PATH CLIENT_ORDER_ID`` from the repo root;
the idempotency test uses it to show that a second process sees the first one's books.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from core.clock import KST, FixedClock
from tests.tools.paper.fake_market import FakeMarket
from tests.tools.paper.orders import buy
from tools.krx.costs import CostModel
from tools.paper import PaperBroker, PaperStore


async def main(path: str, client_order_id: str) -> str:
    market = FakeMarket()
    market.set("005930", 53_600)
    store = PaperStore(path)
    try:
        broker = PaperBroker(
            market,
            store=store,
            clock=FixedClock(datetime(2024, 12, 27, 10, 0, tzinfo=KST)),
            cost_model=CostModel(),
            starting_cash_krw=10_000_000,
        )
        ack = await broker.place(buy(client_order_id, 10, limit=53_000))
    finally:
        store.close()
    return ack.model_dump_json()


if __name__ == "__main__":
    sys.stdout.write(asyncio.run(main(sys.argv[1], sys.argv[2])) + "\n")
