"""The access token: issued rarely, cached in a private file, shared by concurrent callers.

KIS tokens live 24 h, and KIS answers EGW00133 when a new one is asked for within a minute of the
last (it also sends the account holder a KakaoTalk notice for each). So the token manager:

- keeps the token in memory and in ``data_dir/kis-token-<mode>-<key hash>.json`` (mode 0600; a
  token is a secret, so it never goes to the database), and reuses it until
  `token_refresh_margin_s` before its expiry;
- issues a new one at most once per `token_min_interval_s`, remembered in the same file so a
  restarted process honours it too; a caller that needs a token sooner waits for the window;
- serialises issuance with an asyncio lock, so fifty concurrent first calls make one request;
- renews only when told the current token is dead (`invalidate`, after EGW00123/EGW00121 or a
  revocation), and only if nobody renewed it in the meantime.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tools.kis.config import KISConfig
from tools.kis.models_auth import TokenResponse
from trader.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A token and its validity, as kept in memory and on disk."""

    value: str
    expires_at: datetime
    issued_at: datetime


IssueFunc = Callable[[], Awaitable[TokenResponse]]


class TokenManager:
    """Hands out a valid access token, issuing one only when needed."""

    def __init__(
        self,
        config: KISConfig,
        issue: IssueFunc,
        clock: Clock,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Create the manager.

        Args:
            config: the account; gives the cache path, the refresh margin and the issue interval.
            issue: the coroutine that calls /oauth2/tokenP (the request core provides it).
            clock: wall-clock time for expiry and the issue interval.
            sleep: async sleep used to wait out the issue interval.
        """
        self._config = config
        self._issue = issue
        self._clock = clock
        self._sleep = sleep
        self._path = config.token_cache_path
        self._token: CachedToken | None = None
        self._last_issued_at: datetime | None = None
        self._lock = asyncio.Lock()
        self._loaded = False

    async def token(self) -> str:
        """Return a valid token, issuing (once, for all concurrent callers) if there is none."""
        current = self._token
        if current is not None and self._fresh(current):
            return current.value
        async with self._lock:
            # The cache file is read and written in a worker thread: file I/O must not block
            # the event loop (a served graph shares it with every other run).
            await asyncio.to_thread(self._load_once)
            current = self._token
            if current is not None and self._fresh(current):
                return current.value
            return (await self._renew()).value

    async def invalidate(self, dead_token: str) -> None:
        """Forget `dead_token` (expired or revoked) so the next `token()` issues a new one.

        If another caller already replaced it, nothing happens: one dead token causes one renewal.
        """
        async with self._lock:
            if self._token is not None and self._token.value == dead_token:
                self._token = None
                await asyncio.to_thread(self._remove_file_token)

    def forget(self) -> None:
        """Drop the token after we revoked it ourselves."""
        self._token = None
        self._remove_file_token()

    @property
    def current(self) -> str | None:
        """Return the token held now, without checking or issuing."""
        return self._token.value if self._token else None

    def _fresh(self, token: CachedToken) -> bool:
        margin = timedelta(seconds=self._config.token_refresh_margin_s)
        return self._clock.now() < token.expires_at - margin

    async def _renew(self) -> CachedToken:
        if self._last_issued_at is not None:
            ready_at = self._last_issued_at + timedelta(seconds=self._config.token_min_interval_s)
            wait = (ready_at - self._clock.now()).total_seconds()
            if wait > 0:
                log.info("waiting %.1f s before asking KIS for a new token", wait)
                await self._sleep(wait)
        response = await self._issue()
        now = self._clock.now()
        token = CachedToken(
            value=response.access_token.get_secret_value(),
            expires_at=min(response.expires_at, now + timedelta(seconds=response.expires_in)),
            issued_at=now,
        )
        self._token = token
        self._last_issued_at = now
        await asyncio.to_thread(self._save, token)
        log.info("issued a KIS access token valid until %s", token.expires_at.isoformat())
        return token

    # --- the cache file ---------------------------------------------------------------------

    def _load_once(self) -> None:
        if self._loaded or self._path is None:
            self._loaded = True
            return
        self._loaded = True
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            issued = datetime.fromisoformat(data["issued_at"])
            self._last_issued_at = issued
            if data.get("access_token") and data.get("base_url") == self._config.resolved_base_url:
                self._token = CachedToken(
                    value=data["access_token"],
                    expires_at=datetime.fromisoformat(data["expires_at"]),
                    issued_at=issued,
                )
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable KIS token cache file")

    def _save(self, token: CachedToken | None) -> None:
        if self._path is None:
            return
        data = {
            "access_token": token.value if token else "",
            "expires_at": token.expires_at.isoformat() if token else "",
            "issued_at": (self._last_issued_at or self._clock.now()).isoformat(),
            "base_url": self._config.resolved_base_url,
        }
        _write_private(self._path, json.dumps(data))

    def _remove_file_token(self) -> None:
        # Keep the file (it remembers when we last issued) but drop the dead token.
        if self._path is not None and self._path.exists():
            self._save(None)


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)
