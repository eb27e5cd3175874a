"""KIS wire values (all strings) turned into Python types, and the one parse entry point.

KIS sends every number as a string ("128500", "-4.29", "198600.0000"), dates as YYYYMMDD, times
as HHMMSS and flags as Y/N. The annotated types below convert them while a model validates, so
the rest of the code sees `int` KRW, `Decimal`, `date`, `time` and `bool`. A value that does not
fit is a validation error, which `parse_model` turns into a `KISResponseError` naming the TR and
the field (never the value: a payload may hold an account number).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from core.clock import KST
from tools.kis.errors import KISResponseError

_INT = re.compile(r"^[+-]?\d+(\.0*)?$")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value.strip().split(".")[0])
    raise ValueError("not an integer string")


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError("not a decimal string") from None
        if result.is_finite():
            return result
    raise ValueError("not a decimal string")


def _to_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%Y%m%d").date()
        except ValueError:
            pass
    raise ValueError("not a YYYYMMDD date")


def _to_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%H%M%S").time()
        except ValueError:
            pass
    raise ValueError("not an HHMMSS time")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().upper() in {"Y", "N"}:
        return value.strip().upper() == "Y"
    raise ValueError("not Y/N")


def _to_kst_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=KST)
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=KST)
        except ValueError:
            pass
    raise ValueError("not a 'YYYY-MM-DD HH:MM:SS' timestamp")


def _optional(func: Any) -> Any:
    def convert(value: Any) -> Any:
        return None if _blank(value) else func(value)

    return convert


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


KInt = Annotated[int, BeforeValidator(_to_int)]
"""An integer (KRW, shares, counts) sent as a string."""
KDecimal = Annotated[Decimal, BeforeValidator(_to_decimal)]
KDate = Annotated[date, BeforeValidator(_to_date)]
KTime = Annotated[time, BeforeValidator(_to_time)]
KBool = Annotated[bool, BeforeValidator(_to_bool)]
KTimestamp = Annotated[datetime, BeforeValidator(_to_kst_datetime)]
"""A KST wall-clock timestamp "YYYY-MM-DD HH:MM:SS" (tokenP), made timezone-aware."""
KText = Annotated[str, BeforeValidator(_text)]
OptInt = Annotated[int | None, BeforeValidator(_optional(_to_int))]
OptDecimal = Annotated[Decimal | None, BeforeValidator(_optional(_to_decimal))]
OptDate = Annotated[date | None, BeforeValidator(_optional(_to_date))]
OptTime = Annotated[time | None, BeforeValidator(_optional(_to_time))]
OptBool = Annotated[bool | None, BeforeValidator(_optional(_to_bool))]


class KISModel(BaseModel):
    """Base of every KIS payload model: KIS names as aliases, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Any, *, tr_id: str | None, where: str) -> M:
    """Validate `data` as `model`, turning a failure into a `KISResponseError`.

    Args:
        model: the payload model.
        data: the decoded JSON piece.
        tr_id: the TR that produced it (for the message).
        where: the location of `data` in the body, e.g. ``output`` or ``output2[3]``.
    """
    if data is None:
        raise KISResponseError(
            f"KIS {tr_id or 'oauth'}: field {where} is missing", tr_id=tr_id, field=where
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"])
        path = f"{where}.{loc}" if loc else where
        raise KISResponseError(
            f"KIS {tr_id or 'oauth'}: field {path}: {first['msg']}", tr_id=tr_id, field=path
        ) from None


def parse_rows(model: type[M], data: Any, *, tr_id: str | None, where: str) -> list[M]:
    """Validate a list of rows; a single object is taken as one row (KIS does that)."""
    if data is None:
        raise KISResponseError(
            f"KIS {tr_id or 'oauth'}: field {where} is missing", tr_id=tr_id, field=where
        )
    rows = [data] if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise KISResponseError(
            f"KIS {tr_id or 'oauth'}: field {where} is not a list", tr_id=tr_id, field=where
        )
    return [
        parse_model(model, row, tr_id=tr_id, where=f"{where}[{i}]") for i, row in enumerate(rows)
    ]
