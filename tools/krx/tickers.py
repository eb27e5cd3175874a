"""The form of a KRX short code (종목 단축코드), checked before a session names a ticker.

A short code has 6 characters. Older listings use digits only (`005930`); codes issued since the
digit space ran out carry capital letters (`0000J0`-style ETF/ETN codes). KIS takes the same 6
characters in `FID_INPUT_ISCD` and `PDNO`. ETNs quoted as `Q` + 6 digits are not traded here.
Lower-case letters are taken as the capitals they stand for; anything else (5 or 7 characters,
spaces, punctuation, Hangul, full-width digits) is a typo the session must not start with.
Whether a well-formed code is listed is the broker's answer, not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CODE_LENGTH = 6
_CODE = re.compile(r"[0-9A-Z]{6}")
FORM = "6 characters, digits or capital letters (e.g. 005930, 0000J0)"
"""The allowed form, in words, for error messages."""


def normalise_ticker(text: str) -> str:
    """Trim and capitalise a ticker as a person typed it."""
    return text.strip().upper()


def is_krx_code(text: str) -> bool:
    """Tell whether `text` (already normalised) is a well-formed KRX short code."""
    return _CODE.fullmatch(text) is not None


def bad_tickers(tickers: Iterable[str]) -> list[str]:
    """Return the tickers (as given, trimmed) that are not well-formed codes once normalised."""
    return [t.strip() for t in tickers if not is_krx_code(normalise_ticker(t))]
