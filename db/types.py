"""Column types shared by the models.

`UTCDateTime` keeps every timestamp timezone-aware in UTC: PostgreSQL stores `timestamptz`;
SQLite has no time zones, so values are normalised to UTC on the way in and tagged UTC on the
way out. Naive datetimes are refused: a naive time in a trading system is a bug waiting to
happen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC (`timestamptz` on PostgreSQL)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Refuse naive datetimes and convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the backend gave back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL."""

MoneyKRW = sa.BigInteger
"""Money is integer KRW; a BIGINT holds any realistic account."""

Rate = sa.Numeric(18, 8)
"""Rates and ratios (conviction, commission rate, USD cost): exact decimals."""
