import re
from pathlib import Path

import pytest

from core.errors import ConfigurationError
from trader.settings import DEFAULT_WATCHLIST, Settings, TradingMode, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_paper_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.trading_mode is TradingMode.PAPER
    assert settings.watchlist == DEFAULT_WATCHLIST
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'data' / 'trader.db'}"


def test_watchlist_is_read_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHLIST", "005930, 000660")
    assert load_settings().watchlist == ("005930", "000660")


def test_bad_ticker_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHLIST", "005930,SAMSUNG")
    with pytest.raises(ConfigurationError, match=r"WATCHLIST: .*SAMSUNG"):
        load_settings()


def test_kis_real_without_keys_names_every_missing_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADING_MODE", "kis-real")
    monkeypatch.setenv("KIS_APP_KEY", "PSabcdefghijklmnopqrstuvwxyz0123456789")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    message = str(info.value)
    assert "KIS_APP_SECRET" in message and "KIS_ACCOUNT_NO" in message
    assert "KIS_APP_KEY" not in message.split("need", 1)[1]
    assert "PSabcdefghij" not in message


def test_unknown_trading_mode_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_MODE", "live")
    with pytest.raises(ConfigurationError, match="TRADING_MODE"):
        load_settings()


def test_openai_provider_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        load_settings()


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_MODE", "kis-virtual")
    monkeypatch.setenv("KIS_APP_KEY", "key-123456")
    monkeypatch.setenv("KIS_APP_SECRET", "secret-abcdef")
    monkeypatch.setenv("KIS_ACCOUNT_NO", "87654321-01")
    settings = load_settings()
    text = repr(settings) + str(settings.model_dump())
    for secret in ("key-123456", "secret-abcdef", "87654321"):
        assert secret not in text
    assert settings.kis_account == ("87654321", "01")


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORTFOLIO=growth\nSTARTING_CASH_KRW=5000000\n")
    settings = load_settings()
    assert settings.portfolio == "growth"
    assert settings.starting_cash_krw == 5_000_000


def test_env_example_documents_every_setting() -> None:
    text = (REPO_ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    expected = {name.upper() for name in Settings.model_fields}
    assert expected - documented == set(), "undocumented settings"
    assert documented - expected == set(), ".env.example names unknown settings"


def test_a_copied_env_example_is_a_valid_paper_configuration(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((REPO_ROOT / ".env.example").read_text())
    settings = load_settings()
    assert settings.trading_mode is TradingMode.PAPER
    assert settings.kis_app_key is None and settings.openai_api_key is None
    assert settings.resolved_database_url.startswith("sqlite:///")


def test_blank_openai_key_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        load_settings()


def test_training_cutoff_defaults_to_the_known_one_and_can_be_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import date

    from agents.llm import training_cutoff

    settings = load_settings()
    assert settings.llm_training_cutoff is None
    assert training_cutoff("gpt-4o-mini", settings.llm_training_cutoff) == date(2023, 10, 1)
    assert training_cutoff("my-local-model", settings.llm_training_cutoff) is None
    monkeypatch.setenv("LLM_TRAINING_CUTOFF", "2025-01-31")
    override = load_settings().llm_training_cutoff
    assert training_cutoff("gpt-4o-mini", override) == date(2025, 1, 31)
    monkeypatch.setenv("LLM_TRAINING_CUTOFF", "")
    assert load_settings().llm_training_cutoff is None
