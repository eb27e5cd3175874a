"""Payloads of the /oauth2 endpoints and /uapi/hashkey (no rt_cd envelope)."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from tools.kis.fields import KInt, KISModel, KText, KTimestamp

MAX_TOKEN_LIFETIME_S = 366 * 86_400
"""KIS tokens live 24 hours; a lifetime beyond a year is a corrupt answer."""
_HEADER_VALUE = re.compile(r"[!-~]+")
"""Visible ASCII: what can go into an HTTP header (``authorization: Bearer ...``, ``hashkey``)."""


def _header_safe(value: str) -> str:
    if not _HEADER_VALUE.fullmatch(value):
        raise ValueError("not a header value (visible ASCII, no spaces)")
    return value


class TokenResponse(KISModel):
    """POST /oauth2/tokenP: the access token and when it expires (KST)."""

    access_token: SecretStr
    token_type: KText
    expires_in: KInt = Field(ge=0, le=MAX_TOKEN_LIFETIME_S)
    expires_at: KTimestamp = Field(alias="access_token_token_expired")

    @field_validator("access_token")
    @classmethod
    def _sendable(cls, value: SecretStr) -> SecretStr:
        _header_safe(value.get_secret_value())  # the message never quotes the token
        return value


class RevokeResponse(KISModel):
    """POST /oauth2/revokeP."""

    code: KInt
    message: KText


class ApprovalResponse(KISModel):
    """POST /oauth2/Approval: the WebSocket approval key (a secret, used once per session)."""

    approval_key: SecretStr


class HashkeyResponse(KISModel):
    """POST /uapi/hashkey: the hash of an order body (optional header ``hashkey``)."""

    hash: KText = Field(alias="HASH")

    @field_validator("hash")
    @classmethod
    def _sendable(cls, value: str) -> str:
        return _header_safe(value)
