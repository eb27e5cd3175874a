"""Naming an account without revealing it: a keyed hash of its number.

The runs table and the real-account marker record *which* account a session trades, so that a
session is never continued on another one. They store `account_fingerprint(...)`, never the
number: HMAC-SHA256 of the canonical account (`CANO-ACNT_PRDT_CD`) under a fixed product key,
truncated to 16 hex characters. The key is public (it is this file), so the fingerprint hides
the number from a casual reader of a log or a table, not from someone who tries every 8-digit
number; treat it as an identifier, not as encryption.
"""

from __future__ import annotations

import hashlib
import hmac

FINGERPRINT_KEY = b"market-auto-trader/account-fingerprint/v1"
"""The fixed product key of the HMAC (changing it changes every recorded fingerprint)."""
FINGERPRINT_CHARS = 16


def account_fingerprint(account: str) -> str:
    """Return the fingerprint of a canonical account name (`12345678-01`, or `paper:NAME`)."""
    digest = hmac.new(FINGERPRINT_KEY, account.strip().encode(), hashlib.sha256).hexdigest()
    return digest[:FINGERPRINT_CHARS]


def kis_account_name(cano: str, product_code: str) -> str:
    """Return the canonical name of a KIS account: `CANO-ACNT_PRDT_CD`."""
    return f"{cano.strip()}-{product_code.strip()}"
