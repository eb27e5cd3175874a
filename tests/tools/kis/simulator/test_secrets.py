"""The simulator keeps the key pair and the account out of its tokens, logs and file modes."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from tools.kis.masking import MaskingFilter
from tools.kis.simulator import SimulatorConfig, SimulatorServer
from tools.sqlite_books import SqliteBooks

APP_KEY = "PSsecretsTESTappKEY".ljust(36, "q")
APP_SECRET = ("SECRETsecretTEST" * 12)[:180]
ACCOUNT = "73918264"


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return decoded


def test_a_token_carries_no_app_key_and_its_id_is_opaque(start_sim) -> None:
    _sim, caller = start_sim(token=False, app_key=APP_KEY, app_secret=APP_SECRET)
    token = caller.issue_token().json()["access_token"]
    claims = _claims(token)
    text = json.dumps(claims) + token
    assert APP_KEY not in text and APP_SECRET not in text and APP_KEY[:12] not in text
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16


def test_the_store_file_is_private_even_when_it_existed(tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "sim.db"
    old = tmp_path / "old.db"
    old.write_bytes(b"")
    os.chmod(old, 0o644)
    for path in (fresh, old):
        with SimulatorServer(
            SimulatorConfig(app_key=APP_KEY, app_secret=APP_SECRET, store_path=path)
        ) as sim:
            sim.state.store.cash(ACCOUNT, "01")
            for file in path.parent.glob(path.name + "*"):
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_books_files_are_created_private(tmp_path: Path) -> None:
    books = SqliteBooks(tmp_path / "books.db", "CREATE TABLE t (x INTEGER);")
    try:
        with books.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
        for file in tmp_path.glob("books.db*"):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        books.close()


def test_the_access_log_masks_the_account_and_keeps_uvicorn_args(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = SimulatorConfig(app_key=APP_KEY, app_secret=APP_SECRET, account_no=ACCOUNT)
    with SimulatorServer(cfg):
        pass  # starting a simulator registers its account for masking
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5",
            "GET",
            f"/uapi/domestic-stock/v1/trading/inquire-balance?CANO={ACCOUNT}&ACNT_PRDT_CD=01",
            "1.1",
            200,
        ),
        None,
    )
    assert MaskingFilter().filter(record)
    assert ACCOUNT not in record.getMessage() and "CANO=***" in record.getMessage()
    assert isinstance(record.args, tuple) and len(record.args) == 5  # uvicorn's formatter
    assert record.args[4] == 200
