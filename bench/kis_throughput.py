"""How close the client gets to the KIS real-account rate limit without tripping it.

Runs the KIS simulator (real mode, 18 requests/s token bucket per app key) as its own process on
loopback, as a real gateway would be, and sends 300 inquire-price calls through one client, all
submitted at once so only the limiter paces them. (Served from a thread of the bench's own process,
the simulator stamps requests when the GIL lets it run rather than when they arrive, which bunches
them and is not what a client meets in production.)
Prints the achieved rate, the limit, their ratio (target >= 0.95) and how many EGW00201 answers
the simulator gave (target 0).

    uv run python bench/kis_throughput.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import DEFAULT_RATE_LIMIT_PER_S, Mode

APP_KEY = "PSbench" + "k" * 29
APP_SECRET = "bench-secret-" + "s" * 167
ACCOUNT = "12345678"


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the simulator exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("the simulator did not start within 30 s")


class _RateLimitCounter(logging.Handler):
    """Counts the client's "rate limited (EGW00201)" warnings: one per such answer received."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "EGW00201" in record.getMessage():
            self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    limit = DEFAULT_RATE_LIMIT_PER_S[Mode.REAL]
    port = _free_port()
    env = {
        **os.environ,
        "KIS_APP_KEY": APP_KEY,
        "KIS_APP_SECRET": APP_SECRET,
        "KIS_ACCOUNT_NO": ACCOUNT,
        "TRADING_MODE": "paper",
    }
    counter = _RateLimitCounter()
    logging.getLogger("tools.kis.http").addHandler(counter)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "sim.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "trader.cli.main",
                    "kis-sim",
                    "--port",
                    str(port),
                    "--mode",
                    "real",
                    "--always-open",
                    "--keys-from-settings",  # the bench's key pair, from the environment
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _wait_until_up(port, proc)
                elapsed = asyncio.run(run(f"http://127.0.0.1:{port}", args.calls, Path(tmp)))
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
    limited = counter.count
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
