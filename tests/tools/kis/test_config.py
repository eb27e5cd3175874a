"""The KIS config the shell builds from the settings: server, TR IDs and limits by TRADING_MODE."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigurationError
from tools.kis.endpoints import ALL_ENDPOINTS, ORDER_BUY, Mode
from tools.kis.errors import KISConfigurationError
from trader.settings import load_settings
from trader.wiring.configs import kis_config

KEYS = {"kis_app_key": "PS" + "k" * 34, "kis_app_secret": "s" * 180}


def test_real_account(tmp_path: Path) -> None:
    settings = load_settings(
        trading_mode="kis-real",
        kis_account_no="12345678-01",
        kis_real_account_confirm="12345678-01",
        data_dir=tmp_path,
        **KEYS,
    )
    config = kis_config(settings)
    assert config.mode is Mode.REAL
    assert config.resolved_base_url == "https://openapi.koreainvestment.com:9443"
    assert config.resolved_rate_limit == 18
    assert config.account_no.get_secret_value() == "12345678"
    assert config.token_cache_path is not None and config.token_cache_path.parent == tmp_path
    assert "12345678" not in repr(config) and "kkkk" not in repr(config)


def test_virtual_account_with_a_simulator_url(tmp_path: Path) -> None:
    settings = load_settings(
        trading_mode="kis-virtual",
        kis_account_no="12345678",
        kis_base_url="http://127.0.0.1:8800/",
        kis_rate_limit_per_s=5,
        kis_token_min_interval_s=0,
        **KEYS,
    )
    config = kis_config(settings)
    assert config.mode is Mode.VIRTUAL
    assert config.resolved_base_url == "http://127.0.0.1:8800"
    assert config.resolved_rate_limit == 5
    assert config.token_min_interval_s == 0
    assert ORDER_BUY.tr_id(Mode.VIRTUAL) == "VTTC0012U"
    assert ORDER_BUY.tr_id(Mode.VIRTUAL, old=True) == "VTTC0802U"


def test_paper_mode_does_not_use_kis() -> None:
    with pytest.raises(ConfigurationError, match="kis-real or kis-virtual"):
        kis_config(load_settings())


def test_bad_account_number() -> None:
    settings = load_settings(
        trading_mode="kis-real", kis_account_no="1234", kis_real_account_confirm="1234", **KEYS
    )
    with pytest.raises(KISConfigurationError, match="8 digits"):
        kis_config(settings)


def test_trading_tr_ids_differ_by_first_letter() -> None:
    for endpoint in ALL_ENDPOINTS:
        real, virtual = endpoint.tr_id(Mode.REAL), endpoint.tr_id(Mode.VIRTUAL)
        if real and virtual and real[0] in "TJC":
            assert virtual == "V" + real[1:]
