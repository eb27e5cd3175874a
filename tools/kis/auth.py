"""The access token: issued rarely, cached in a private file, shared by every client of the key.

KIS tokens live 24 h, and KIS answers EGW00133 when a new one is asked for within a minute of the
last (it also sends the account holder a KakaoTalk notice for each). So the token manager:

- keeps the token in memory and in ``data_dir/kis-token-<mode>-<key hash>.json`` (mode 0600; a
  token is a secret, so it never goes to the database), and reuses it until
  `token_refresh_margin_s` before its expiry;
- records in that file when it last *asked* for a token (``attempted_at``), before it asks, and
  never asks again within `token_min_interval_s` of that, whether the answer was a token or a
  refusal (EGW00133): a caller that needs a token sooner waits out the interval, then first
  looks whether another client or process has put a fresh token in the file;
- holds an exclusive lock on ``<file>.lock`` (fcntl) from reading the file to writing the
  answer, so two processes sharing DATA_DIR make one request between them and the second uses
  the first one's token; an asyncio lock does the same for the callers of one client;
- renews only when told the current token is dead (`invalidate`, after EGW00123/EGW00121 or a
  revocation), and only if nobody renewed it in the meantime.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.clock import Clock
from tools.kis.config import KISConfig
from tools.kis.models_auth import TokenResponse

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A token and its validity, as kept in memory and on disk."""

    value: str
    expires_at: datetime
    issued_at: datetime


IssueFunc = Callable[[], Awaitable[TokenResponse]]


class _FileLock:
    """An exclusive fcntl lock on a side file, taken and released in worker threads."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


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
        self._attempted_at: datetime | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """Return a valid token, issuing (once, for all clients of the key) if there is none.

        Raises:
            KISTokenIssueLimitError: KIS refused the request (the attempt is recorded, so the
                next call waits out the interval before asking again).
        """
        current = self._token
        if current is not None and self._fresh(current):
            return current.value
        async with self._lock:
            while True:
                current = self._token
                if current is not None and self._fresh(current):
                    return current.value
                lock = await self._lock_file()
                try:
                    # The cache file is read and written in a worker thread: file I/O must not
                    # block the event loop (a served graph shares it with every other run).
                    await asyncio.to_thread(self._load)
                    current = self._token
                    if current is not None and self._fresh(current):
                        return current.value
                    wait = self._wait_s()
                    if wait <= 0:
                        return (await self._renew()).value
                finally:
                    if lock is not None:
                        await asyncio.to_thread(lock.release)
                log.info("waiting %.1f s before asking KIS for a new token", wait)
                await self._sleep(wait)

    async def invalidate(self, dead_token: str) -> None:
        """Forget `dead_token` (expired or revoked) so the next `token()` issues a new one.

        If another caller already replaced it, nothing happens: one dead token causes one renewal.
        """
        async with self._lock:
            if self._token is not None and self._token.value == dead_token:
                self._token = None
            lock = await self._lock_file()
            try:
                await asyncio.to_thread(self._drop_file_token, dead_token)
            finally:
                if lock is not None:
                    await asyncio.to_thread(lock.release)

    def forget(self) -> None:
        """Drop the token after we revoked it ourselves (blocking: call from a worker thread)."""
        dead = self._token.value if self._token else None
        self._token = None
        if self._path is None:
            return
        lock = _FileLock(self._lock_path())
        lock.acquire()
        try:
            self._drop_file_token(dead)
        finally:
            lock.release()

    @property
    def current(self) -> str | None:
        """Return the token held now, without checking or issuing."""
        return self._token.value if self._token else None

    def _fresh(self, token: CachedToken) -> bool:
        margin = timedelta(seconds=self._config.token_refresh_margin_s)
        return self._clock.now() < token.expires_at - margin

    def _wait_s(self) -> float:
        if self._attempted_at is None:
            return 0.0
        ready_at = self._attempted_at + timedelta(seconds=self._config.token_min_interval_s)
        return (ready_at - self._clock.now()).total_seconds()

    async def _renew(self) -> CachedToken:
        """Ask KIS for a token; the caller holds both locks and has checked the interval."""
        self._attempted_at = self._clock.now()
        await asyncio.to_thread(self._save)  # the attempt counts even if the answer is a refusal
        response = await self._issue()
        now = self._clock.now()
        # KIS issued it somewhere between our request and its answer: counting the interval
        # from the answer keeps the next request a full interval after the issue as KIS
        # counts it, however long the request took.
        self._attempted_at = now
        token = CachedToken(
            value=response.access_token.get_secret_value(),
            expires_at=min(response.expires_at, now + timedelta(seconds=response.expires_in)),
            issued_at=now,
        )
        self._token = token
        await asyncio.to_thread(self._save)
        log.info("issued a KIS access token valid until %s", token.expires_at.isoformat())
        return token

    # --- the cache file ---------------------------------------------------------------------

    def _lock_path(self) -> Path:
        assert self._path is not None
        return self._path.with_suffix(self._path.suffix + ".lock")

    async def _lock_file(self) -> _FileLock | None:
        if self._path is None:
            return None
        lock = _FileLock(self._lock_path())
        await asyncio.to_thread(lock.acquire)
        return lock

    def _read(self) -> dict[str, Any] | None:
        if self._path is None:
            return None
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("ignoring an unreadable KIS token cache file")
            return None
        if not isinstance(data, dict) or data.get("base_url") != self._config.resolved_base_url:
            return None
        return data

    def _load(self) -> None:
        """Take the token and the last attempt time from the file (another process may write)."""
        data = self._read()
        if data is None:
            return
        try:
            attempted = data.get("attempted_at") or data.get("issued_at")
            if attempted:
                stamp = datetime.fromisoformat(attempted)
                if self._attempted_at is None or stamp > self._attempted_at:
                    self._attempted_at = stamp
            if data.get("access_token"):
                token = CachedToken(
                    value=data["access_token"],
                    expires_at=datetime.fromisoformat(data["expires_at"]),
                    issued_at=datetime.fromisoformat(data["issued_at"]),
                )
                if self._token is None or token.issued_at >= self._token.issued_at:
                    self._token = token
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable KIS token cache file")

    def _save(self) -> None:
        if self._path is None:
            return
        token = self._token
        data = {
            "access_token": token.value if token else "",
            "expires_at": token.expires_at.isoformat() if token else "",
            "issued_at": token.issued_at.isoformat() if token else "",
            "attempted_at": self._attempted_at.isoformat() if self._attempted_at else "",
            "base_url": self._config.resolved_base_url,
        }
        _write_private(self._path, json.dumps(data))

    def _drop_file_token(self, dead_token: str | None) -> None:
        # Keep the file (it remembers when we last asked) but drop the dead token, unless the
        # file already holds a newer one from another client.
        data = self._read()
        if data is None:
            return
        if dead_token is not None and data.get("access_token") not in ("", dead_token):
            return
        self._load()
        if self._token is not None and self._token.value in (dead_token, data["access_token"]):
            self._token = None
        self._save()


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
