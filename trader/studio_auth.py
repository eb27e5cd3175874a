"""Who may drive the graph that `langgraph dev` serves: LangGraph custom auth (`langgraph.json`).

Left alone, `langgraph dev` answers anyone who reaches its port, with CORS `*`: any web page open
in the operator's browser could start a session or resume an approval. `langgraph.json` names
`auth` below (`"auth": {"path": ..., "disable_studio_auth": true}`), and the server calls it on
every request:

- `STUDIO_AUTH_TOKEN` set: a request must carry `Authorization: Bearer <token>`; anything else
  gets 401. A web page cannot read the token, so it cannot drive the graph.
- not set, with `TRADING_MODE=kis-real`: every request gets 403 naming the missing setting. A
  real account is never served without a token (the server starts, but serves nothing).
- not set otherwise (paper, the built-in demo market, kis-virtual): requests pass, as plain
  `langgraph dev` does. Only play money is at stake; the trade-off is that a local page could
  still drive those sessions, so set a token on shared machines too.
- invalid settings: every request gets 403 with the configuration problem (never a value).

`disable_studio_auth` matters: without it the dev server lets any request carrying the header
`x-auth-scheme: langsmith` through as the Studio user without calling this handler, which any
page could send. Studio (the LangSmith page) therefore has to send the bearer header too.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from dataclasses import dataclass

from langgraph_sdk import Auth
from pydantic import SecretStr

from core.errors import ConfigurationError
from trader.settings import Settings, TradingMode, load_settings

log = logging.getLogger(__name__)

IDENTITY = "studio-operator"
"""The user every authorised request runs as (one operator per server)."""
SCHEME = "bearer"


@dataclass(frozen=True)
class StudioPolicy:
    """What the served graph demands of a request, decided once from the settings."""

    token: SecretStr | None
    refusal: str | None = None
    """Why every request is refused (nothing is served), or None."""

    @classmethod
    def from_settings(cls, settings: Settings) -> StudioPolicy:
        """Require the token when one is set; refuse everything on a real account without one."""
        token = settings.studio_auth_token
        if token is not None and token.get_secret_value().strip():
            return cls(token=token)
        if settings.trading_mode is TradingMode.KIS_REAL:
            return cls(
                token=None,
                refusal=(
                    "TRADING_MODE=kis-real is served only with STUDIO_AUTH_TOKEN set; "
                    "set it and send 'Authorization: Bearer <token>'"
                ),
            )
        return cls(token=None)

    def check(self, authorization: str | None) -> Auth.types.MinimalUserDict:
        """Return the user of an allowed request; raise the HTTP error of a refused one."""
        if self.refusal is not None:
            raise Auth.exceptions.HTTPException(status_code=403, detail=self.refusal)
        if self.token is None:
            return {"identity": IDENTITY}
        scheme, _, given = (authorization or "").strip().partition(" ")
        expected = self.token.get_secret_value().strip().encode()
        if scheme.lower() != SCHEME or not hmac.compare_digest(given.strip().encode(), expected):
            raise Auth.exceptions.HTTPException(
                status_code=401,
                detail="missing or wrong bearer token (see STUDIO_AUTH_TOKEN)",
            )
        return {"identity": IDENTITY}


def policy_from_environment() -> StudioPolicy:
    """Build the policy from the settings (environment and `.env`); a bad config refuses all."""
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        return StudioPolicy(token=None, refusal=str(exc))
    policy = StudioPolicy.from_settings(settings)
    if policy.refusal:
        log.error("serving nothing: %s", policy.refusal)
    elif policy.token is None:
        log.warning(
            "STUDIO_AUTH_TOKEN is not set: anyone who reaches this server drives the %s sessions",
            settings.trading_mode.value,
        )
    return policy


_policy: StudioPolicy | None = None
_policy_lock = asyncio.Lock()


async def current_policy() -> StudioPolicy:
    """The server's policy, read from the settings on the first request (off the event loop)."""
    global _policy
    async with _policy_lock:
        if _policy is None:
            _policy = await asyncio.to_thread(policy_from_environment)
        return _policy


auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
    """Let a request through only as the policy allows (see the module docstring)."""
    return (await current_policy()).check(authorization)
