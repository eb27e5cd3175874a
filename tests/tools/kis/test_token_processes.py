"""Two processes sharing DATA_DIR ask KIS for one token between them.

The first process's token request is held by the simulator (a slow answer); the second process
starts meanwhile. It must wait for the first one's answer in the shared cache instead of asking
too (which KIS refuses with EGW00133 within the minute).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from core.clock import SystemClock
from tools.kis.simulator import SimulatorConfig, SimulatorServer

SCRIPT = """
import asyncio, hashlib, os, sys
from pathlib import Path
from pydantic import SecretStr
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode

async def main() -> None:
    config = KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr(os.environ["SIM_APP_KEY"]),
        app_secret=SecretStr(os.environ["SIM_APP_SECRET"]),
        account_no=SecretStr("12345678"),
        base_url=os.environ["SIM_URL"],
        token_cache_dir=Path(os.environ["SIM_CACHE"]),
        timeout_s=30.0,
        query_attempts=1,
    )
    async with KISClient(config) as client:
        await client.ensure_token()
        token = client.http.tokens.current or ""
        sys.stdout.write(hashlib.sha256(token.encode()).hexdigest())

asyncio.run(main())
"""


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_share_one_token_request(tmp_path: Path) -> None:
    cfg = SimulatorConfig(clock=SystemClock(), token_min_interval_s=60.0, timeout_delay_s=15.0)
    with SimulatorServer(cfg, port=0) as sim:
        sim.faults.inject("timeout", path="/oauth2/tokenP", count=1, after_processing=True)
        env = os.environ | {
            "SIM_APP_KEY": cfg.app_key,
            "SIM_APP_SECRET": cfg.app_secret,
            "SIM_URL": sim.base_url,
            "SIM_CACHE": str(tmp_path / "data"),
        }
        first = _start(env)
        deadline = time.monotonic() + 60
        while sim.stats.token_requests == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.stats.token_requests == 1, "the first process never asked"
        second = _start(env)
        out_first, err_first = first.communicate(timeout=120)
        out_second, err_second = second.communicate(timeout=120)
        assert first.returncode == 0, err_first
        assert second.returncode == 0, err_second
        assert sim.stats.token_requests == 1
        assert out_first == out_second != hashlib.sha256(b"").hexdigest()
