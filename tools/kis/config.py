"""Everything the KIS client needs to know about one account.

The shell builds it from the settings (`trader.wiring.configs.kis_config`); the client never
reads settings itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tools.kis.endpoints import BASE_URLS, DEFAULT_RATE_LIMIT_PER_S, Mode


class KISConfig(BaseModel):
    """One KIS account on one server. Frozen: a client never changes account mid-flight."""

    model_config = ConfigDict(frozen=True)

    mode: Mode
    app_key: SecretStr
    app_secret: SecretStr
    account_no: SecretStr
    """CANO, the 8-digit account number."""
    account_product_code: str = "01"
    base_url: str = ""
    """Empty means the official host for `mode`."""
    custtype: str = "P"
    rate_limit_per_s: float | None = Field(default=None, gt=0)
    """None means 18/s (real) or 1/s (virtual)."""
    rate_safety_factor: float = Field(default=0.97, gt=0, le=1)
    """Pace at this fraction of the limit: a little headroom absorbs network jitter."""
    token_min_interval_s: float = Field(default=60.0, ge=0)
    token_refresh_margin_s: float = Field(default=600.0, ge=0)
    """Renew a cached token this long before KIS says it expires."""
    token_cache_dir: Path | None = None
    """Folder for the token cache file (0600). None keeps the token in memory only."""
    timeout_s: float = Field(default=10.0, gt=0)
    use_old_tr_ids: bool = False
    """Send the pre-2024 order/ccld TR IDs (TTTC0802U...) instead of the new ones."""
    query_attempts: int = Field(default=4, ge=1)
    retry_wait_s: float = Field(default=0.5, ge=0)
    """First back-off step between query retries (exponential, capped at 8x)."""
    reconcile_attempts: int = Field(default=3, ge=1)
    reconcile_delay_s: float = Field(default=1.0, ge=0)
    """Wait this long before (and between) asking the broker about an order in doubt."""

    @property
    def resolved_base_url(self) -> str:
        """Return the REST host: the override, else the official one for the mode."""
        return (self.base_url or BASE_URLS[self.mode]).rstrip("/")

    @property
    def resolved_rate_limit(self) -> float:
        """Return the requests per second allowed for this account."""
        return self.rate_limit_per_s or DEFAULT_RATE_LIMIT_PER_S[self.mode]

    @property
    def paced_rate(self) -> float:
        """Return the rate the limiter actually paces at (limit x safety factor)."""
        return self.resolved_rate_limit * self.rate_safety_factor

    @property
    def key_fingerprint(self) -> str:
        """Return a short, non-reversible id of the app key (for file names and limiter keys)."""
        digest = hashlib.sha256(self.app_key.get_secret_value().encode()).hexdigest()
        return f"{self.mode.value}-{digest[:16]}"

    @property
    def token_cache_path(self) -> Path | None:
        """Return where the token is cached, or None for memory only."""
        if self.token_cache_dir is None:
            return None
        return self.token_cache_dir / f"kis-token-{self.key_fingerprint}.json"

    def secrets(self) -> list[str]:
        """Return the secret values the masker must hide."""
        return [
            s.get_secret_value()
            for s in (self.app_key, self.app_secret, self.account_no)
            if s.get_secret_value()
        ]
