"""Turn the string values of the ECOS, FRED and OpenDART wire formats into typed values.

All three services send numbers as strings: ECOS ``"1,305.2"``, FRED ``"975.5"`` or ``"."``
(missing), OpenDART ``"106,479,426,061"`` or ``"116778642598"`` (KRW, sometimes negative, blank
when the period does not exist).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

_MISSING_MARKS = frozenset({"", ".", "-", "--", "N/A", "NA"})


def parse_decimal(raw: object) -> Decimal | None:
    """Parse a decimal that may carry thousands separators; a missing mark gives None.

    Raises:
        ValueError: the text is neither a number nor a known missing mark.
    """
    if raw is None:
        return None
    if isinstance(raw, int | Decimal):
        return Decimal(raw)
    text = str(raw).strip()
    if text in _MISSING_MARKS:
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None


def parse_krw_amount(raw: object) -> int | None:
    """Parse an OpenDART amount (whole KRW) such as ``"1,234"``, ``"-1,234"`` or ``"(1,234)"``.

    Raises:
        ValueError: the text is not a whole amount.
    """
    if raw is None:
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    value = parse_decimal(text)
    if value is None:
        return None
    if not value.is_finite():
        raise ValueError(f"not an amount: {raw!r}")
    if value != value.to_integral_value():
        raise ValueError(f"not a whole KRW amount: {raw!r}")
    return -int(value) if negative else int(value)


def parse_yyyymmdd(raw: str) -> date:
    """Parse ``YYYYMMDD`` (ECOS daily TIME, OpenDART dates)."""
    return datetime.strptime(raw.strip(), "%Y%m%d").date()
