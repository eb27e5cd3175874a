"""Payloads of the /oauth2 endpoints and /uapi/hashkey (no rt_cd envelope)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from tools.kis.fields import KInt, KISModel, KText, KTimestamp


class TokenResponse(KISModel):
    """POST /oauth2/tokenP: the access token and when it expires (KST)."""

    access_token: SecretStr
    token_type: KText
    expires_in: KInt
    expires_at: KTimestamp = Field(alias="access_token_token_expired")


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
