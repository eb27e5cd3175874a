"""`trader kis-sim` runs the simulator in its own process with the configured account."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tools.kis.simulator import SimulatorConfig, SimulatorServer
from tools.kis.simulator.store import Store

APP_KEY = "PSkeyFROMsettings".ljust(36, "k")
APP_SECRET = "S" * 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        try:
            httpx.post(url + "/oauth2/Approval", json={}, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("kis-sim did not start")


def test_kis_sim_command_serves_the_configured_account(tmp_path: Path) -> None:
    port, store = _free_port(), tmp_path / "sim.sqlite"
    env = os.environ | {
        "KIS_APP_KEY": APP_KEY,
        "KIS_APP_SECRET": APP_SECRET,
        "KIS_ACCOUNT_NO": "50123456-01",
        "STARTING_CASH_KRW": "7000000",
    }
    cmd = [
        sys.executable,
        "-c",
        "from trader.cli.main import app; app()",
        "kis-sim",
        "--port",
        str(port),
        "--mode",
        "virtual",
        "--store",
        str(store),
        "--always-open",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url, proc)
        token = httpx.post(
            url + "/oauth2/tokenP",
            json={"grant_type": "client_credentials", "appkey": APP_KEY, "appsecret": APP_SECRET},
        )
        assert token.status_code == 200
        headers = {
            "authorization": f"Bearer {token.json()['access_token']}",
            "appkey": APP_KEY,
            "appsecret": APP_SECRET,
            "tr_id": "VTTC8434R",
            "custtype": "P",
        }
        balance = httpx.get(
            url + "/uapi/domestic-stock/v1/trading/inquire-balance",
            params={"CANO": "50123456", "ACNT_PRDT_CD": "01"},
            headers=headers,
        )
        assert balance.json()["output2"][0]["dnca_tot_amt"] == "7000000"
        assert balance.json()["msg_cd"] == "20310000"
        demo = httpx.post(
            url + "/oauth2/tokenP",
            json={
                "grant_type": "client_credentials",
                "appkey": SimulatorConfig().app_key,
                "appsecret": SimulatorConfig().app_secret,
            },
        )
        assert demo.json()["error_code"] == "EGW00103"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert Store(store).cash("50123456", "01") == 7_000_000
    cfg = SimulatorConfig(
        app_key=APP_KEY, app_secret=APP_SECRET, account_no="50123456", store_path=store
    )
    with SimulatorServer(cfg, reset=True) as sim:
        assert sim.state.store.cash("50123456", "01") == 100_000_000
