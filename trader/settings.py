"""The one settings object of the application.

Built once at the entry point (the CLI, the Studio graph factory, the scheduler) from the
environment and an optional `.env` file, then passed down. Library code never reads
`os.environ` itself. Every secret is a `SecretStr`: it prints as ``**********`` and must be
unwrapped explicitly with `.get_secret_value()` at the one place that sends it over the wire.

`.env.example` documents every variable; a test keeps the two in step.
"""

from __future__ import annotations

import hmac
import os
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agents.llm import LLMProvider
from agents.risk.limits import RiskLimits
from core.errors import ConfigurationError
from tools.krx.tickers import FORM, bad_tickers, normalise_ticker
from trader.schedule.plan import DEFAULT_SCHEDULE_RUNS, ScheduledRun, parse_runs

DEFAULT_WATCHLIST: tuple[str, ...] = ("005930", "000660", "035420", "005380", "051910", "069500")
"""Real KRX tickers: Samsung Electronics, SK hynix, NAVER, Hyundai Motor, LG Chem, KODEX 200."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class TradingMode(StrEnum):
    """Where orders go. `paper` is the default: nothing leaves the machine."""

    PAPER = "paper"
    KIS_VIRTUAL = "kis-virtual"
    KIS_REAL = "kis-real"


_LIMITS = RiskLimits()
"""The risk gate's defaults, declared once in `RiskLimits`; the `RISK_*` fields start from them."""


def default_data_dir() -> Path:
    """Return the folder for local state (SQLite file, simulator store, token cache)."""
    return Path.cwd() / "data"


def default_state_dir() -> Path:
    """Return the per-user state folder: `$XDG_STATE_HOME/market-auto-trader`.

    Without `XDG_STATE_HOME`, `~/.local/state/market-auto-trader`. Unlike `data_dir` it does not
    depend on the working directory, so what it holds (the real-account markers) is found from
    any folder.
    """
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".local" / "state"
    return root / "market-auto-trader"


def _same_account(a: str, b: str, default_product: str) -> bool:
    def canonical(raw: str) -> str:
        cano, _, product = raw.strip().partition("-")
        return f"{cano.strip()}-{(product or default_product).strip()}"

    return hmac.compare_digest(canonical(a).encode(), canonical(b).encode())


class Settings(BaseSettings):
    """Every knob of the application, read from the environment (and `.env`).

    Field names are the environment variable names in lower case (`TRADING_MODE` ->
    `trading_mode`).
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    # --- where and how we trade -------------------------------------------------------------
    trading_mode: TradingMode = TradingMode.PAPER
    """`paper` (default, simulated broker), `kis-virtual` (KIS 모의투자) or `kis-real`."""
    portfolio: str = "default"
    """Name of the portfolio this process trades; part of every session's thread id."""
    watchlist: Annotated[tuple[str, ...], NoDecode] = DEFAULT_WATCHLIST
    """Comma-separated 6-digit KRX tickers analysed each session."""
    starting_cash_krw: int = Field(default=100_000_000, gt=0)
    """Cash of a new paper portfolio (and of the simulator's account), integer KRW."""

    # --- storage --------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir)
    """Local state: the default SQLite file, the simulator's store, the KIS token cache."""
    database_url: str = ""
    """SQLAlchemy URL. Empty means a SQLite file `trader.db` in `data_dir`."""

    # --- KIS Open API -----------------------------------------------------------------------
    kis_app_key: SecretStr | None = None
    kis_app_secret: SecretStr | None = None
    kis_account_no: SecretStr | None = None
    """The 8-digit account number (CANO); `12345678-01` is also accepted."""
    kis_account_product_code: str = "01"
    """ACNT_PRDT_CD, the 2-digit product code of the account (01 = 종합)."""
    kis_base_url: str | None = None
    """Override the KIS host, e.g. a running simulator `http://127.0.0.1:8800`."""
    kis_rate_limit_per_s: float | None = Field(default=None, gt=0)
    """Requests per second for this account; default 18 (real) or 1 (virtual)."""
    kis_token_min_interval_s: float = Field(default=60.0, ge=0)
    """Never ask KIS for a new token more often than this (KIS answers EGW00133)."""
    kis_custtype: str = "P"
    """`P` individual, `B` corporate."""
    kis_real_account_confirm: SecretStr | None = None
    """`kis-real` only: the same account number as KIS_ACCOUNT_NO, a second deliberate opt-in
    to trading real money (without it, or naming another account, nothing starts)."""
    kis_real_auto_approve: bool = False
    """`kis-real` only: allow automatic approval (`--auto-approve`) on the real account."""
    state_dir: Path = Field(default_factory=default_state_dir)
    """Per-user state that does not depend on the working directory: the real-account markers
    recording which database holds each real account's sessions."""

    # --- LLM ------------------------------------------------------------------------------
    llm_provider: LLMProvider = LLMProvider.NONE
    llm_model: str = "gpt-4o-mini"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    """Base URL of an OpenAI-compatible server (Ollama, vLLM, ...)."""
    llm_max_concurrency: int = Field(default=8, ge=1)
    llm_token_budget: int | None = Field(default=None, gt=0)
    """Stop calling the LLM in a session after this many tokens; remaining tickers are marked."""
    llm_training_cutoff: date | None = None
    """The last day LLM_MODEL's training data covers; empty = the known default for the model
    (`agents.llm.KNOWN_TRAINING_CUTOFFS`). Evals and LLM backtests of earlier days say that the
    model may remember what happened next."""

    # --- evaluations (`trader evals`, evals/agents_eval/) ---------------------------------------
    evals_market_data: Path = Path("../shared/market-data")
    """Folder of real daily bars the `history` eval dataset is built from."""
    evals_regression_threshold: float = Field(default=0.05, gt=0, lt=1)
    """`trader evals compare` flags a score that dropped by more than this."""

    # --- observability and economic data ----------------------------------------------------
    langsmith_api_key: SecretStr | None = None
    langsmith_tracing: bool = False
    """Send traces of sessions to LangSmith (the CLI exports these to the SDK at start-up)."""
    langsmith_endpoint: str | None = None
    """LangSmith API URL; empty = the SDK's default (https://api.smith.langchain.com)."""
    langsmith_project: str | None = None
    """LangSmith project the traces go to; empty = the SDK's default."""
    ecos_api_key: SecretStr | None = None
    fred_api_key: SecretStr | None = None
    dart_api_key: SecretStr | None = None
    ecos_base_url: str | None = None
    """Override the ECOS host (default https://ecos.bok.or.kr/api), e.g. the econ simulator."""
    fred_base_url: str | None = None
    """Override the FRED host (default https://api.stlouisfed.org/fred)."""
    dart_base_url: str | None = None
    """Override the OpenDART host (default https://opendart.fss.or.kr/api)."""

    # --- data layer (datastore/: the collector and the database-first readers) ---------------
    fundamentals_max_age_days: int = Field(default=30, ge=0)
    """A session refreshes a ticker's stored KIS ratios from KIS when a filing deadline passed
    since the last fetch or the last fetch is this many days old (0: every session)."""
    collect_concurrency: int = Field(default=8, ge=1, le=64)
    """Tickers `trader data collect` works on at once (the KIS rate limiter sets the pace)."""
    collect_years: int = Field(default=5, ge=1, le=30)
    """Years of history `trader data collect` fetches for a ticker it has none of (`--since`
    overrides it)."""

    # --- costs ----------------------------------------------------------------------------
    commission_rate: Decimal = Field(default=Decimal("0.00015"), ge=0, lt=Decimal("0.01"))
    """Broker commission per side, as a fraction of the traded value."""

    # --- risk gate (agents/risk/limits.py: defaults and meaning there; `risk_limits` below) --
    risk_max_order_krw: int = Field(default=_LIMITS.max_order_krw, gt=0)
    """Largest value of one discretionary order; protective exits are exempt."""
    risk_max_ticker_exposure_pct: Decimal = Field(
        default=_LIMITS.max_ticker_exposure_pct, gt=0, le=100
    )
    """Held value plus pending buys of one ticker, percent of equity."""
    risk_max_gross_exposure_pct: Decimal = Field(
        default=_LIMITS.max_gross_exposure_pct, gt=0, le=100
    )
    """All positions plus pending buys, percent of equity."""
    risk_min_cash_buffer_krw: int = Field(default=_LIMITS.min_cash_buffer_krw, ge=0)
    """Cash that buys may never spend."""
    risk_daily_loss_halt_pct: Decimal = Field(default=_LIMITS.daily_loss_halt_pct, gt=0, le=100)
    """New buys stop when equity falls this far below the start-of-day equity."""
    risk_drawdown_halt_pct: Decimal = Field(default=_LIMITS.drawdown_halt_pct, gt=0, le=100)
    """New buys stop when equity falls this far below its peak."""
    risk_stop_loss_pct: Decimal = Field(default=_LIMITS.stop_loss_pct, gt=0, lt=100)
    """Sell a position this far below its average cost."""
    risk_take_profit_pct: Decimal = Field(default=_LIMITS.take_profit_pct, gt=0)
    """Sell a position this far above its average cost."""
    risk_max_orders_per_session: int = Field(default=_LIMITS.max_orders_per_session, gt=0)
    """Orders one session may propose (exits are never cut, but use up slots)."""
    risk_volatility_target_pct: Decimal = Field(default=_LIMITS.volatility_target_pct, gt=0)
    """Daily volatility at which a full-conviction buy gets its whole budget."""
    risk_min_top_up_pct: Decimal = Field(default=_LIMITS.min_top_up_pct, ge=0, lt=100)
    """A held position is topped up only when it lacks this share of its target, percent."""

    # --- LangGraph Studio / `langgraph dev` (trader/studio_auth.py) --------------------------
    studio_auth_token: SecretStr | None = None
    """Bearer token every request to the served graph must carry. Required with
    TRADING_MODE=kis-real (the server refuses every request without it); without it, other
    modes are served to anyone who can reach the port."""

    log_level: str = "INFO"
    """DEBUG, INFO, WARNING, ERROR or CRITICAL: log lines of the application on stderr."""

    # --- notifications (trader/wiring/notify.py; off unless a channel is set) ---------------
    notify_telegram_bot_token: SecretStr | None = None
    """Telegram bot token (from @BotFather); with NOTIFY_TELEGRAM_CHAT_ID turns Telegram on."""
    notify_telegram_chat_id: str | None = None
    """The chat the bot writes to (a user, group or channel id)."""
    notify_telegram_base_url: str = "https://api.telegram.org"
    """The Bot API server (a local Bot API server, or a test's fake)."""
    notify_telegram_approvals: bool = False
    """Approve from Telegram: a pending approval's message gets approve / reject buttons, and
    `trader serve` answers their presses (from NOTIFY_TELEGRAM_CHAT_ID only)."""
    notify_telegram_approvers: Annotated[tuple[int, ...], NoDecode] = ()
    """Comma-separated Telegram user ids allowed to press the buttons (empty: anyone in the
    chat). Required for Telegram approvals with TRADING_MODE=kis-real."""
    notify_telegram_poll_s: int = Field(default=30, ge=0, le=50)
    """How long one Bot API `getUpdates` long poll waits for a press, seconds."""
    notify_webhook_url: SecretStr | None = None
    """A Slack-compatible incoming webhook (`POST {"text": ...}`); the URL is the credential."""
    notify_timeout_s: float = Field(default=5.0, gt=0, le=60)
    """How long one notification may take before it is given up (never the session)."""
    service_public_url: str = "http://127.0.0.1:8000"
    """Where the trader opens the service's pages; messages link `/sessions/{thread_id}`."""
    # --- the service, `trader serve` (trader/service/auth.py) ---------------------------------
    service_auth_token: SecretStr | None = None
    """Bearer token every API request but health must carry. Required with TRADING_MODE=kis-real
    (`trader serve` refuses to start without it); without it, other modes are served to anyone
    who can reach the port, with a warning in the log."""
    service_follows_fills: bool = False
    """`trader approve` hands its answer to the service at SERVICE_PUBLIC_URL (with
    SERVICE_AUTH_TOKEN), which places the orders and follows their fills: the command returns
    once they are placed and prints the session's page. An unreachable service: it follows
    them itself, as without the setting."""
    # --- the scheduler, `trader schedule` (trader/schedule/) ---------------------------------
    schedule_runs: Annotated[tuple[ScheduledRun, ...], NoDecode] = DEFAULT_SCHEDULE_RUNS
    """Comma-separated `HH:MM phase` runs in KST on KRX trading days (default
    `08:40 pre_open,14:30 regular`); phases: pre_open, regular, each at most once a day."""
    schedule_catch_up_minutes: int = Field(default=30, ge=0, le=360)
    """A run whose time passed at most this long before `trader schedule` started starts at
    once; an older one is reported as missed."""
    # --- order-time windows (agents/venue_hours.py, agents/executor/lifecycle.py) ------------
    order_window_wait_minutes: int = Field(default=60, ge=0, le=390)
    """How long the executor waits for KIS to take orders (reception opens at 08:30 KST): an
    approved order whose window opens later, or after its approval expires, is refused for its
    time (`rejected`, never sent)."""

    @field_validator("notify_telegram_approvers", mode="before")
    @classmethod
    def _split_approvers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(int(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("schedule_runs", mode="before")
    @classmethod
    def _parse_schedule_runs(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return parse_runs(value)
        return value

    @field_validator(
        "kis_app_key",
        "kis_app_secret",
        "kis_account_no",
        "kis_real_account_confirm",
        "kis_base_url",
        "kis_rate_limit_per_s",
        "openai_api_key",
        "openai_base_url",
        "ecos_base_url",
        "fred_base_url",
        "dart_base_url",
        "llm_token_budget",
        "llm_training_cutoff",
        "langsmith_api_key",
        "langsmith_endpoint",
        "langsmith_project",
        "ecos_api_key",
        "fred_api_key",
        "dart_api_key",
        "studio_auth_token",
        "service_auth_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `KEY=` in a copied .env.example means "not set", not "set to the empty string".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("watchlist", mode="before")
    @classmethod
    def _split_watchlist(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(t.strip() for t in value.split(",") if t.strip())
        return value

    @field_validator("watchlist")
    @classmethod
    def _check_tickers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = bad_tickers(value)
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: a KRX ticker is {FORM}")
        if not value:
            raise ValueError("the watchlist is empty")
        return tuple(normalise_ticker(t) for t in value)

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("kis_account_product_code")
    @classmethod
    def _check_product_code(cls, value: str) -> str:
        if not (len(value) == 2 and value.isdigit()):
            raise ValueError("must be 2 digits, e.g. 01")
        return value

    @model_validator(mode="after")
    def _check_mode_requirements(self) -> Settings:
        missing: list[str] = []
        if self.trading_mode is not TradingMode.PAPER:
            for name in ("kis_app_key", "kis_app_secret", "kis_account_no"):
                secret = getattr(self, name)
                if secret is None or not secret.get_secret_value().strip():
                    missing.append(name.upper())
        if self.llm_provider is LLMProvider.OPENAI and self.openai_api_key is None:
            missing.append("OPENAI_API_KEY")
        if self.llm_provider is LLMProvider.OPENAI_COMPATIBLE and not self.openai_base_url:
            missing.append("OPENAI_BASE_URL")
        if missing:
            raise ValueError(
                f"TRADING_MODE={self.trading_mode.value}, LLM_PROVIDER={self.llm_provider.value} "
                f"need {', '.join(missing)}"
            )
        if self.trading_mode is TradingMode.KIS_REAL:
            self._check_real_account_opt_in()
        return self

    def _check_real_account_opt_in(self) -> None:
        """A real account trades only when KIS_REAL_ACCOUNT_CONFIRM names it a second time."""
        assert self.kis_account_no is not None  # checked above
        confirm = self.kis_real_account_confirm
        if confirm is None:
            raise ValueError(
                "TRADING_MODE=kis-real trades real money: set KIS_REAL_ACCOUNT_CONFIRM to the "
                "same account number as KIS_ACCOUNT_NO to confirm it"
            )
        if not _same_account(
            confirm.get_secret_value(),
            self.kis_account_no.get_secret_value(),
            self.kis_account_product_code,
        ):
            raise ValueError(
                "KIS_REAL_ACCOUNT_CONFIRM names another account than KIS_ACCOUNT_NO: "
                "nothing trades until both name the real account to use"
            )

    @property
    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'trader.db'}"

    @property
    def risk_limits(self) -> RiskLimits:
        """The `RISK_*` values as the one model the risk gate enforces.

        Each `risk_<name>` field is `RiskLimits.<name>`; the model checks them together
        (a ticker's share within the gross exposure).
        """
        return RiskLimits(
            **{name: getattr(self, f"risk_{name}") for name in RiskLimits.model_fields}
        )

    @property
    def kis_account(self) -> tuple[str, str]:
        """Return (CANO, ACNT_PRDT_CD). Raises ConfigurationError when no account is set."""
        if self.kis_account_no is None:
            raise ConfigurationError("KIS_ACCOUNT_NO is not set")
        raw = self.kis_account_no.get_secret_value().strip()
        cano, _, product = raw.partition("-")
        return cano, product or self.kis_account_product_code


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning every validation problem into one clear `ConfigurationError`.

    The message names the environment variables at fault and never echoes a value (a value may
    be a secret).
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False, include_url=False):
            loc = ".".join(str(p) for p in err["loc"]).upper()
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{loc}: {message}" if loc else message)
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
