"""How close the client gets to the KIS real-account rate limit without tripping it.

Runs the KIS simulator (real mode, 18 requests/s token bucket per app key) on loopback and sends
300 inquire-price calls through one client, all submitted at once so only the limiter paces them.
Prints the achieved rate, the limit, their ratio (target >= 0.95) and how many EGW00201 answers
the simulator gave (target 0).

    uv run python bench/kis_throughput.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import DEFAULT_RATE_LIMIT_PER_S, Mode
from trader.clock import SystemClock

APP_KEY = "PSbench" + "k" * 29
APP_SECRET = "bench-secret-" + "s" * 167
ACCOUNT = "12345678"


def stat(stats: Any, name: str) -> Any:
    return stats[name] if isinstance(stats, dict) else getattr(stats, name)


async def run(base_url: str, calls: int, cache_dir: Path) -> float:
    config = KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr(APP_KEY),
        app_secret=SecretStr(APP_SECRET),
        account_no=SecretStr(ACCOUNT),
        base_url=base_url,
        token_cache_dir=cache_dir,
    )
    async with KISClient(config) as client:
        await client.ensure_token()
        await client.price("005930")  # warm the connection; not counted
        started = time.perf_counter()
        await asyncio.gather(*(client.price("005930") for _ in range(calls)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    from tools.kis.simulator import SimulatorConfig, SimulatorServer  # on the kis-sim branch

    limit = DEFAULT_RATE_LIMIT_PER_S[Mode.REAL]
    cfg = SimulatorConfig(
        mode="real",
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        account_no=ACCOUNT,
        account_product_code="01",
        rate_limit_per_s=None,
        clock=SystemClock(),
        always_open=True,
    )
    with tempfile.TemporaryDirectory() as tmp, SimulatorServer(cfg, port=0) as sim:
        elapsed = asyncio.run(run(sim.base_url, args.calls, Path(tmp)))
        limited = stat(sim.stats, "rate_limited")
    # n calls paced 1/rate apart span (n - 1) intervals after the first one goes out
    achieved = (args.calls - 1) / elapsed
    print(f"calls:             {args.calls}")
    print(f"elapsed:           {elapsed:.2f} s")
    print(f"achieved:          {achieved:.2f} req/s")
    print(f"limit:             {limit:.2f} req/s")
    print(f"ratio:             {achieved / limit:.3f} (target >= 0.95)")
    print(f"EGW00201 answers:  {limited} (target 0)")


if __name__ == "__main__":
    main()
