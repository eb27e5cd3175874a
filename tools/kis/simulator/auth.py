"""Access tokens of the simulated gateway: issuance with KIS's limits, expiry and revocation.

Issuance policy (kis-api.md §2.1, where the sources disagree):
- Any tokenP call for an app key within `token_min_interval_s` of the previous *successful*
  tokenP answer for that key is refused with EGW00133 (HTTP 403), whether or not a new token
  would have been minted. This is the "1분당 1회" rule as the error text states it.
- Otherwise, when a live token issued less than 6 hours ago exists for the key, the same token
  is returned again (with `expires_in` counting down); after 6 hours a new token is minted.
- Tokens live 24 hours (EGW00123 afterwards); unknown or revoked tokens get EGW00121.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import UTC, datetime

from core.clock import KST
from tools.kis.simulator.config import TOKEN_LIFETIME_S, TOKEN_REUSE_WINDOW_S, SimulatorConfig
from tools.kis.simulator.store import Store
from tools.kis.simulator.wire import EXPIRED_TOKEN, INVALID_TOKEN, Msg


class OAuthError(Exception):
    """An /oauth2 refusal: KIS answers `error_code`/`error_description` with HTTP 403."""

    def __init__(self, code: str, description: str) -> None:
        """Keep the KIS code and its message."""
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description


_INVALID_APPKEY = ("EGW00103", "유효하지 않은 AppKey입니다.")
# UNDOCUMENTED: a wrong app secret for a known app key.
_INVALID_SECRET = ("EGW00105", "유효하지 않은 AppSecret입니다.")
# UNDOCUMENTED: a grant_type other than client_credentials.
_INVALID_GRANT = ("EGW00101", "유효하지 않은 grant_type 입니다.")
_ISSUE_LIMIT = ("EGW00133", "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)")
_REVOKE_INVALID = ("EGW00121", "유효하지 않은 token 입니다.")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenAuthority:
    """Mints, checks and revokes access tokens; state lives in the shared store."""

    def __init__(self, cfg: SimulatorConfig, store: Store) -> None:
        """Bind to the config (key pair, clock, limits) and the store."""
        self._cfg = cfg
        self._store = store
        self._signing_key = hashlib.sha256(cfg.app_secret.encode()).digest()

    def _now(self) -> float:
        return self._cfg.clock.now().timestamp()

    def check_keys(self, appkey: str, appsecret: str) -> None:
        """Raise the OAuth error for an unknown app key or a wrong secret."""
        if not hmac.compare_digest(appkey, self._cfg.app_key):
            raise OAuthError(*_INVALID_APPKEY)
        if not hmac.compare_digest(appsecret, self._cfg.app_secret):
            raise OAuthError(*_INVALID_SECRET)

    def issue(self, grant_type: str, appkey: str, appsecret: str) -> dict[str, object]:
        """Answer a tokenP request (the body of a 200), or raise `OAuthError`."""
        if grant_type != "client_credentials":
            raise OAuthError(*_INVALID_GRANT)
        self.check_keys(appkey, appsecret)
        now = self._now()
        with self._store.transaction() as conn:
            last = conn.execute(
                "SELECT last_at FROM token_issues WHERE appkey=?", (appkey,)
            ).fetchone()
            if last is not None and now - float(last["last_at"]) < self._cfg.token_min_interval_s:
                raise OAuthError(*_ISSUE_LIMIT)
            row = conn.execute(
                "SELECT token, expires_at FROM tokens WHERE appkey=? AND revoked=0 AND"
                " expires_at>? AND issued_at>? ORDER BY issued_at DESC LIMIT 1",
                (appkey, now, now - TOKEN_REUSE_WINDOW_S),
            ).fetchone()
            if row is not None:
                token, expires_at = str(row["token"]), float(row["expires_at"])
            else:
                expires_at = now + TOKEN_LIFETIME_S
                token = self._mint(now, expires_at)
                conn.execute(
                    "INSERT INTO tokens (token, appkey, issued_at, expires_at) VALUES (?,?,?,?)",
                    (token, appkey, now, expires_at),
                )
            conn.execute(
                "INSERT OR REPLACE INTO token_issues (appkey, last_at) VALUES (?, ?)",
                (appkey, now),
            )
        expiry = datetime.fromtimestamp(expires_at, UTC).astimezone(KST)
        return {
            "access_token": token,
            "access_token_token_expired": expiry.strftime("%Y-%m-%d %H:%M:%S"),
            "token_type": "Bearer",
            "expires_in": int(expires_at - now),
        }

    def _mint(self, now: float, expires_at: float) -> str:
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS512"}, separators=(",", ":")).encode())
        claims = {
            "sub": "token",
            "aud": str(uuid.uuid4()),
            "iss": "unogw",
            "exp": int(expires_at),
            "iat": int(now),
            # KIS puts the app key here; an id that names nothing keeps the key out of tokens.
            "jti": secrets.token_hex(16),
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._signing_key, f"{header}.{payload}".encode(), hashlib.sha512)
        return f"{header}.{payload}.{_b64(signature.digest())}"

    def revoke(self, appkey: str, appsecret: str, token: str) -> None:
        """Revoke a token (revokeP), or raise `OAuthError`."""
        self.check_keys(appkey, appsecret)
        with self._store.transaction() as conn:
            cur = conn.execute(
                "UPDATE tokens SET revoked=1 WHERE token=? AND appkey=? AND revoked=0",
                (token, appkey),
            )
            if cur.rowcount == 0:
                raise OAuthError(*_REVOKE_INVALID)

    def check(self, authorization: str, appkey: str) -> Msg | None:
        """Return the gateway error for a request's bearer token, or None when it is good."""
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            return INVALID_TOKEN
        rows = self._store.query(
            "SELECT appkey, expires_at, revoked FROM tokens WHERE token=?", (token.strip(),)
        )
        if not rows or rows[0]["revoked"] or rows[0]["appkey"] != appkey:
            return INVALID_TOKEN
        if float(rows[0]["expires_at"]) <= self._now():
            return EXPIRED_TOKEN
        return None

    def expire_all(self) -> None:
        """Make every live token read as expired and forget the issuance times (fault injection).

        This plays "the 24 hours ran out": the client's next call gets EGW00123 and its next
        tokenP succeeds at once.
        """
        now = self._now()
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE tokens SET expires_at=? WHERE revoked=0 AND expires_at>?", (now, now)
            )
            conn.execute("DELETE FROM token_issues")

    def revoke_all(self) -> None:
        """Revoke every live token, keeping the issuance times (fault injection).

        This plays KIS's maintenance: the next call with an old token gets EGW00121, and a new
        token is still refused within `token_min_interval_s` of the last one (EGW00133).
        """
        with self._store.transaction() as conn:
            conn.execute("UPDATE tokens SET revoked=1 WHERE revoked=0")
