"""From a decoded KIS body to typed models, one function per response shape.

The client calls these after the request core has checked the envelope (`check_envelope`), so
they only deal with the payload. Each names its TR in any error it raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.kis.errors import KISError, KISResponseError, error_for
from tools.kis.fields import parse_model, parse_rows
from tools.kis.models import (
    BalanceSummary,
    DailyBar,
    DailyChartSummary,
    DailyOrder,
    DailyOrderSummary,
    Holding,
    MinuteBar,
    MinuteChart,
    MinuteChartSummary,
)

Body = dict[str, Any]


def envelope_error(
    body: Any,
    *,
    tr_id: str | None,
    http_status: int,
    is_order: bool,
    mask: Callable[[str], str] = str,
) -> KISError | None:
    """Return the error a body reports, or None when it reports success.

    Handles both shapes: the `/uapi` envelope (`rt_cd`, `msg_cd`, `msg1`; "0" is success) and the
    `/oauth2` one (`error_code`, `error_description`); `mask` scrubs secrets from msg1.
    """
    if not isinstance(body, dict):
        return KISResponseError(
            f"KIS {tr_id or 'oauth'}: body is not a JSON object", tr_id=tr_id, field="<body>"
        )
    if "error_code" in body:
        return error_for(
            str(body.get("error_code", "")),
            mask(str(body.get("error_description", ""))),
            tr_id=tr_id,
            http_status=http_status,
            is_order=is_order,
        )
    if "rt_cd" in body and str(body["rt_cd"]) != "0":
        return error_for(
            str(body.get("msg_cd", "")),
            mask(str(body.get("msg1", ""))),
            tr_id=tr_id,
            http_status=http_status,
            is_order=is_order,
        )
    return None


def _padded_rows(body: Body, key: str, tr_id: str) -> list[Any]:
    """The rows of a chart list, without the empty `{}` KIS pads it with past the end."""
    raw = body.get(key) or []
    if isinstance(raw, dict):
        raw = [raw]  # one row sent as an object, as parse_rows takes it
    if not isinstance(raw, list):
        raise KISResponseError(f"KIS {tr_id}: field {key} is not a list", tr_id=tr_id, field=key)
    return [row for row in raw if row]


def daily_chart_page(body: Body, tr_id: str) -> tuple[DailyChartSummary | None, list[DailyBar]]:
    """inquire-daily-itemchartprice: summary (may be empty) and bars as sent (newest first)."""
    summary_raw = body.get("output1")
    summary = (
        parse_model(DailyChartSummary, summary_raw, tr_id=tr_id, where="output1")
        if summary_raw
        else None
    )
    rows = _padded_rows(body, "output2", tr_id)
    return summary, parse_rows(DailyBar, rows, tr_id=tr_id, where="output2")


def minute_chart(body: Body, tr_id: str) -> MinuteChart:
    """inquire-time-itemchartprice: summary and today's minute bars (newest first)."""
    summary_raw = body.get("output1")
    summary = (
        parse_model(MinuteChartSummary, summary_raw, tr_id=tr_id, where="output1")
        if summary_raw
        else None
    )
    rows = _padded_rows(body, "output2", tr_id)
    bars = parse_rows(MinuteBar, rows, tr_id=tr_id, where="output2")
    return MinuteChart(summary=summary, bars=bars)


def balance_page(body: Body, tr_id: str) -> tuple[list[Holding], BalanceSummary]:
    """inquire-balance: one page of holdings and the summary (`output2` is a one-item list)."""
    holdings = parse_rows(Holding, body.get("output1"), tr_id=tr_id, where="output1")
    raw = body.get("output2")
    first = raw[0] if isinstance(raw, list) and raw else raw
    summary = parse_model(
        BalanceSummary,
        first or None,
        tr_id=tr_id,
        where="output2[0]" if isinstance(raw, list) else "output2",
    )
    return holdings, summary


def daily_orders_page(body: Body, tr_id: str) -> tuple[list[DailyOrder], DailyOrderSummary | None]:
    """inquire-daily-ccld: one page of orders and the summary object."""
    orders = parse_rows(DailyOrder, body.get("output1"), tr_id=tr_id, where="output1")
    raw = body.get("output2")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    summary = parse_model(DailyOrderSummary, raw, tr_id=tr_id, where="output2") if raw else None
    return orders, summary


def continuation(body: Body) -> tuple[str, str]:
    """Return the (fk, nk) continuation keys of a paged answer exactly as received.

    KIS pads them with spaces to 100 characters and expects them back unchanged, padding
    included (the official samples send `res.getBody().ctx_area_fk100` as it is).
    """
    fk = body.get("ctx_area_fk100", body.get("ctx_area_fk", ""))
    nk = body.get("ctx_area_nk100", body.get("ctx_area_nk", ""))
    return str(fk or ""), str(nk or "")
