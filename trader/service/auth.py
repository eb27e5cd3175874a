"""Who may call the API: a bearer token from `SERVICE_AUTH_TOKEN`, compared in constant time.

- token set: every route but health needs `Authorization: Bearer <token>`; anything else is 401.
- not set, with `TRADING_MODE=kis-real`: the service refuses to start (`policy_for` raises).
- not set otherwise (paper, the built-in demo market, kis-virtual): served to anyone who can
  reach the port, with a warning in the log. Only play money is at stake.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from core.errors import ConfigurationError
from trader.settings import Settings, TradingMode

log = logging.getLogger(__name__)

TOKEN_SETTING = "SERVICE_AUTH_TOKEN"

_bearer = HTTPBearer(auto_error=False, description=f"The token of the {TOKEN_SETTING} setting.")


@dataclass(frozen=True)
class ServicePolicy:
    """What a request must carry, decided once from the settings."""

    token: SecretStr | None
    """None: every request passes (never on a real account)."""

    def allows(self, credentials: HTTPAuthorizationCredentials | None) -> bool:
        """True when the request may be served."""
        if self.token is None:
            return True
        if credentials is None or credentials.scheme.lower() != "bearer":
            return False
        expected = self.token.get_secret_value().strip().encode()
        return hmac.compare_digest(credentials.credentials.strip().encode(), expected)


def policy_for(settings: Settings) -> ServicePolicy:
    """The policy of the settings; refuse a real account without a token.

    Raises:
        ConfigurationError: `TRADING_MODE=kis-real` without `SERVICE_AUTH_TOKEN`.
    """
    token = settings.service_auth_token
    if token is not None and token.get_secret_value().strip():
        return ServicePolicy(token=token)
    if settings.trading_mode is TradingMode.KIS_REAL:
        raise ConfigurationError(
            f"TRADING_MODE=kis-real is served only with {TOKEN_SETTING} set: set it, and send "
            "'Authorization: Bearer <token>' with every request"
        )
    log.warning(
        "%s is not set: the API is open to anyone who can reach its port "
        "(TRADING_MODE=%s, no real money); set it on a shared machine",
        TOKEN_SETTING,
        settings.trading_mode.value,
    )
    return ServicePolicy(token=None)


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The dependency of every protected route: 401 without the right bearer token."""
    policy: ServicePolicy = request.app.state.policy
    if not policy.allows(credentials):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=f"missing or wrong bearer token (see {TOKEN_SETTING})",
            headers={"WWW-Authenticate": "Bearer"},
        )
