"""`trader kis-sim` runs the simulator in its own process with the configured account."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tools.kis.simulator import SimulatorConfig, SimulatorServer
from tools.kis.simulator.store import Store

APP_KEY = "PSkeyFROMsettings".ljust(36, "k")
APP_SECRET = "S" * 180
SLOW = 60.0
"""Seconds a request may take: a loaded machine starts the subprocess's imports slowly."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        try:
            httpx.post(url + "/oauth2/Approval", json={}, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("kis-sim did not start")


def test_kis_sim_command_serves_the_configured_account_when_told_to(tmp_path: Path) -> None:
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
        "--keys-from-settings",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url, proc)
        token = httpx.post(
            url + "/oauth2/tokenP",
            json={"grant_type": "client_credentials", "appkey": APP_KEY, "appsecret": APP_SECRET},
            timeout=SLOW,
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
            timeout=SLOW,
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
            timeout=SLOW,
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


def test_kis_sim_keeps_its_own_keys_and_no_secret_of_the_folder_it_starts_in(
    tmp_path: Path,
) -> None:
    """Started where `.env` holds a real key pair, it copies none of it anywhere."""
    secret_account = "50987654"
    (tmp_path / ".env").write_text(
        f"KIS_APP_KEY={APP_KEY}\nKIS_APP_SECRET={APP_SECRET}\nKIS_ACCOUNT_NO={secret_account}-01\n"
    )
    port, store = _free_port(), tmp_path / "sim.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIS_")}
    printed = subprocess.run(
        [sys.executable, "-m", "trader.cli.main", "kis-sim", "--print-env"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    demo = SimulatorConfig()
    assert f"KIS_APP_KEY={demo.app_key}" in printed and APP_KEY not in printed
    assert f"KIS_ACCOUNT_NO={demo.account_no}-01" in printed
    cmd = [sys.executable, "-m", "trader.cli.main", "kis-sim", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--store", str(store), "--always-open"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url, proc)
        theirs = httpx.post(
            url + "/oauth2/tokenP",
            json={"grant_type": "client_credentials", "appkey": APP_KEY, "appsecret": APP_SECRET},
            timeout=SLOW,
        )
        assert theirs.json()["error_code"] == "EGW00103"
        ours = httpx.post(
            url + "/oauth2/tokenP",
            json={
                "grant_type": "client_credentials",
                "appkey": demo.app_key,
                "appsecret": demo.app_secret,
            },
            timeout=SLOW,
        )
        assert ours.status_code == 200
        token = ours.json()["access_token"]
        assert demo.app_key not in token
        balance = httpx.get(
            url + "/uapi/domestic-stock/v1/trading/inquire-balance",
            params={"CANO": demo.account_no, "ACNT_PRDT_CD": "01"},
            headers={
                "authorization": f"Bearer {token}",
                "appkey": demo.app_key,
                "appsecret": demo.app_secret,
                "tr_id": "TTTC8434R",
                "custtype": "P",
            },
            timeout=SLOW,
        )
        assert balance.status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    log = out.decode() + err.decode()  # uvicorn writes its access log to stdout
    assert "inquire-balance" in log, log  # the access log is on, and masks the account
    for secret in (demo.account_no, secret_account, APP_KEY, APP_SECRET):
        assert secret not in log
    for file in tmp_path.glob("sim.sqlite*"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        data = file.read_bytes()
        for secret in (APP_KEY, APP_SECRET, secret_account):
            assert secret.encode() not in data, file
