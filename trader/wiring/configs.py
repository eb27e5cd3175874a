"""The settings handed down as the typed config each part takes.

Below the shell nothing reads `Settings`: the KIS client takes a `KISConfig`, the chat model an
`LLMConfig`, the economic-data clients their key and host, the risk gate `RiskLimits`
(`Settings.risk_limits`). These functions are the one place that maps one onto the other.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from agents.llm import LLMConfig
from tools.econ.dart import DartClient
from tools.econ.ecos import EcosClient
from tools.econ.errors import EconConfigurationError
from tools.econ.fred import FredClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.errors import KISConfigurationError
from tools.kis.simulator import SimulatorConfig
from trader.settings import Settings, TradingMode

KIS_MODES = {TradingMode.KIS_REAL: Mode.REAL, TradingMode.KIS_VIRTUAL: Mode.VIRTUAL}
"""The KIS server each KIS trading mode talks to."""


def kis_config(settings: Settings, *, mode: TradingMode | None = None) -> KISConfig:
    """The KIS client's config for the configured account (`KIS_*`).

    Args:
        settings: the application settings.
        mode: the trading mode whose server to use (default: `TRADING_MODE`); paper trading
            with keys reads the real server's quotes with `TradingMode.KIS_REAL`.

    Raises:
        KISConfigurationError: the mode does not use KIS, or a key or the account is missing.
    """
    trading_mode = mode or settings.trading_mode
    kis_mode = KIS_MODES.get(trading_mode)
    if kis_mode is None:
        raise KISConfigurationError(
            f"TRADING_MODE={trading_mode.value} does not use KIS (use kis-real or kis-virtual)"
        )
    if settings.kis_app_key is None or settings.kis_app_secret is None:
        raise KISConfigurationError("KIS_APP_KEY and KIS_APP_SECRET must be set")
    cano, product = settings.kis_account
    if not (len(cano) == 8 and cano.isdigit()):
        raise KISConfigurationError("KIS_ACCOUNT_NO must be 8 digits (optionally -NN)")
    return KISConfig(
        mode=kis_mode,
        app_key=settings.kis_app_key,
        app_secret=settings.kis_app_secret,
        account_no=SecretStr(cano),
        account_product_code=product,
        base_url=settings.kis_base_url or "",
        custtype=settings.kis_custtype,
        rate_limit_per_s=settings.kis_rate_limit_per_s,
        token_min_interval_s=settings.kis_token_min_interval_s,
        token_cache_dir=settings.data_dir,
    )


def simulator_config(settings: Settings, **overrides: Any) -> SimulatorConfig:
    """The KIS simulator's config from the settings, as the client would see them.

    The key pair, account, starting cash, rate limit, token interval and commission come from
    the settings; unset KIS values fall back to the demo defaults. The mode follows
    `TRADING_MODE` (kis-virtual -> virtual, otherwise real) unless overridden.
    """
    values: dict[str, Any] = {}
    if settings.kis_app_key is not None and settings.kis_app_key.get_secret_value().strip():
        values["app_key"] = settings.kis_app_key.get_secret_value().strip()
    if settings.kis_app_secret is not None and settings.kis_app_secret.get_secret_value().strip():
        values["app_secret"] = settings.kis_app_secret.get_secret_value().strip()
    if settings.kis_account_no is not None:
        cano, product = settings.kis_account
        values["account_no"] = cano
        values["account_product_code"] = product
    else:
        values["account_product_code"] = settings.kis_account_product_code
    values["starting_cash_krw"] = settings.starting_cash_krw
    values["rate_limit_per_s"] = settings.kis_rate_limit_per_s
    values["token_min_interval_s"] = settings.kis_token_min_interval_s
    values["commission_rate"] = settings.commission_rate
    is_virtual = settings.trading_mode is TradingMode.KIS_VIRTUAL
    values["mode"] = "virtual" if is_virtual else "real"
    values.update(overrides)
    return SimulatorConfig(**values)


def has_kis_keys(settings: Settings) -> bool:
    """Whether the KIS app key, secret and account are all set (not blank)."""
    return all(
        s is not None and s.get_secret_value().strip()
        for s in (settings.kis_app_key, settings.kis_app_secret, settings.kis_account_no)
    )


def llm_config(settings: Settings) -> LLMConfig:
    """The chat model's config (`LLM_PROVIDER`, `LLM_MODEL`, `OPENAI_*`)."""
    return LLMConfig(
        provider=settings.llm_provider,
        model=settings.llm_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
    )


def _key(settings_key: SecretStr | None, service: str, variable: str) -> SecretStr:
    if settings_key is None or not settings_key.get_secret_value():
        raise EconConfigurationError(service, "no-key", f"{variable} is not set")
    return settings_key


def ecos_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> EcosClient:
    """The ECOS client on `ECOS_API_KEY` and `ECOS_BASE_URL` (the caller closes it).

    Raises:
        EconConfigurationError: `ECOS_API_KEY` is not set.
    """
    key = _key(settings.ecos_api_key, EcosClient.SERVICE, "ECOS_API_KEY")
    return EcosClient(key, transport=transport, base_url=settings.ecos_base_url)


def fred_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> FredClient:
    """The FRED client on `FRED_API_KEY` and `FRED_BASE_URL` (the caller closes it).

    Raises:
        EconConfigurationError: `FRED_API_KEY` is not set.
    """
    key = _key(settings.fred_api_key, FredClient.SERVICE, "FRED_API_KEY")
    return FredClient(key, transport=transport, base_url=settings.fred_base_url)


def dart_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> DartClient:
    """The OpenDART client on `DART_API_KEY` and `DART_BASE_URL` (the caller closes it).

    Raises:
        EconConfigurationError: `DART_API_KEY` is not set.
    """
    key = _key(settings.dart_api_key, DartClient.SERVICE, "DART_API_KEY")
    return DartClient(key, transport=transport, base_url=settings.dart_base_url)
