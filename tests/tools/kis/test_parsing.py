"""Every sample in ../shared/kis-samples parses into typed models; bad bodies name the field."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.clock import KST
from core.errors import ConfigurationError, RejectedError, TemporaryError
from tools.kis import responses
from tools.kis.errors import (
    KISConfigurationError,
    KISOrderRejectedError,
    KISRateLimitError,
    KISResponseError,
    KISTokenError,
    KISTokenIssueLimitError,
)
from tools.kis.fields import parse_model, parse_rows
from tools.kis.models import (
    ApprovalResponse,
    BuyingPower,
    OrderResult,
    Quote,
    RevokeResponse,
    TokenResponse,
)

pytestmark = pytest.mark.shared


def load(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "kis-samples" / name).read_text(encoding="utf-8"))


def parse_token(body: Any) -> Any:
    return parse_model(TokenResponse, body, tr_id=None, where="<body>")


def parse_output(model: Any, tr_id: str) -> Any:
    return lambda body: parse_model(model, body.get("output"), tr_id=tr_id, where="output")


PARSERS: dict[str, Any] = {
    "tokenP.json": parse_token,
    "approval.json": lambda b: parse_model(ApprovalResponse, b, tr_id=None, where="<body>"),
    "revokeP.json": lambda b: parse_model(RevokeResponse, b, tr_id=None, where="<body>"),
    "inquire-price.json": parse_output(Quote, "FHKST01010100"),
    "inquire-daily-itemchartprice.json": lambda b: responses.daily_chart_page(b, "FHKST03010100"),
    "inquire-time-itemchartprice.json": lambda b: responses.minute_chart(b, "FHKST03010200"),
    "order-cash.json": parse_output(OrderResult, "TTTC0012U"),
    "order-cash-doc.json": parse_output(OrderResult, "TTTC0012U"),
    "order-cash-virtual.json": parse_output(OrderResult, "VTTC0012U"),
    "inquire-balance.json": lambda b: responses.balance_page(b, "TTTC8434R"),
    "inquire-balance-virtual.json": lambda b: responses.balance_page(b, "VTTC8434R"),
    "inquire-psbl-order.json": parse_output(BuyingPower, "TTTC8908R"),
    "inquire-daily-ccld.json": lambda b: responses.daily_orders_page(b, "TTTC0081R"),
}

ERRORS: dict[str, type[Exception]] = {
    "error-expired-token.json": KISTokenError,
    "error-rate-limit.json": KISRateLimitError,
    "error-token-issue-limit.json": KISTokenIssueLimitError,
    "error-invalid-appkey.json": KISConfigurationError,
    "error-real-insufficient-cash.json": KISOrderRejectedError,
    "error-real-market-closed.json": KISOrderRejectedError,
    "error-virtual-market-closed.json": KISOrderRejectedError,
    "error-virtual-before-open.json": KISOrderRejectedError,
}


def test_every_sample_is_covered(shared_dir: Path) -> None:
    names = {p.name for p in (shared_dir / "kis-samples").glob("*.json")}
    assert names == set(PARSERS) | set(ERRORS)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_sample_parses(shared_dir: Path, name: str) -> None:
    body = load(shared_dir, name)
    assert responses.envelope_error(body, tr_id="X", http_status=200, is_order=False) is None
    assert PARSERS[name](body) is not None


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_sample_maps_to_its_group(shared_dir: Path, name: str) -> None:
    body = load(shared_dir, name)
    status = 403 if "error_code" in body else 500 if body["msg_cd"].startswith("EGW") else 200
    error = responses.envelope_error(body, tr_id="TTTC0012U", http_status=status, is_order=True)
    assert isinstance(error, ERRORS[name])
    assert error.msg_cd == body.get("msg_cd", body.get("error_code"))
    assert error.msg_cd is not None and error.msg_cd in str(error)


def test_error_groups_follow_what_the_caller_should_do(shared_dir: Path) -> None:
    cash = responses.envelope_error(
        load(shared_dir, "error-real-insufficient-cash.json"),
        tr_id="TTTC0012U",
        http_status=200,
        is_order=True,
    )
    assert isinstance(cash, RejectedError)
    assert cash.msg1 == "주문가능금액을 초과 했습니다"
    limit = responses.envelope_error(
        load(shared_dir, "error-rate-limit.json"),
        tr_id="FHKST01010100",
        http_status=500,
        is_order=False,
    )
    assert isinstance(limit, TemporaryError)
    appkey = responses.envelope_error(
        load(shared_dir, "error-invalid-appkey.json"), tr_id=None, http_status=403, is_order=False
    )
    assert isinstance(appkey, ConfigurationError)


def test_token_values(shared_dir: Path) -> None:
    token = parse_token(load(shared_dir, "tokenP.json"))
    assert token.expires_in == 86400
    assert token.expires_at == datetime(2023, 12, 22, 8, 16, 59, tzinfo=KST)
    assert "eyJ" not in repr(token)  # the token is a SecretStr


def test_quote_values(shared_dir: Path) -> None:
    quote = PARSERS["inquire-price.json"](load(shared_dir, "inquire-price.json"))
    assert quote.ticker == "000660"
    assert (quote.price, quote.upper_limit, quote.lower_limit) == (128500, 167000, 90000)
    assert quote.change_rate == Decimal("0.00")
    assert quote.per == Decimal("19.67")
    assert quote.halted is False
    assert quote.tick_size == 500


def test_chart_and_minute_values(shared_dir: Path) -> None:
    summary, bars = PARSERS["inquire-daily-itemchartprice.json"](
        load(shared_dir, "inquire-daily-itemchartprice.json")
    )
    assert summary.ticker == "000660"
    assert bars[0].day == date(2022, 5, 9)
    assert (bars[0].open, bars[0].close, bars[0].volume) == (107000, 107500, 2203472)
    chart = PARSERS["inquire-time-itemchartprice.json"](
        load(shared_dir, "inquire-time-itemchartprice.json")
    )
    assert [b.minute for b in chart.bars] == [time(10, 0), time(9, 59)]


def test_trading_values(shared_dir: Path) -> None:
    order = PARSERS["order-cash.json"](load(shared_dir, "order-cash.json"))
    assert (order.org_no, order.order_no, order.ordered_at) == (
        "91252",
        "0000117057",
        time(12, 10, 52),
    )
    holdings, summary = PARSERS["inquire-balance-virtual.json"](
        load(shared_dir, "inquire-balance-virtual.json")
    )
    assert holdings[1].avg_price == Decimal("4482.1420")
    assert holdings[1].eval_pnl == -6725
    assert summary.total_eval == summary.deposit + summary.securities_eval
    orders, ccld = PARSERS["inquire-daily-ccld.json"](load(shared_dir, "inquire-daily-ccld.json"))
    assert orders[0].order_no == "0001568197" and orders[0].is_buy
    assert orders[0].rejected_qty == 10
    assert ccld is not None and ccld.ordered_qty == 281
    power = PARSERS["inquire-psbl-order.json"](load(shared_dir, "inquire-psbl-order.json"))
    assert power.max_qty == 21176


def test_missing_required_field_names_field_and_tr(shared_dir: Path) -> None:
    body = load(shared_dir, "inquire-price.json")
    del body["output"]["stck_prpr"]
    with pytest.raises(KISResponseError) as info:
        PARSERS["inquire-price.json"](body)
    assert info.value.field == "output.stck_prpr"
    assert info.value.tr_id == "FHKST01010100"
    assert "FHKST01010100" in str(info.value) and "output.stck_prpr" in str(info.value)


def test_malformed_field_names_field_and_tr(shared_dir: Path) -> None:
    body = load(shared_dir, "inquire-balance.json")
    body["output1"][1]["hldg_qty"] = "12a"
    with pytest.raises(KISResponseError) as info:
        responses.balance_page(body, "TTTC8434R")
    assert info.value.field == "output1[1].hldg_qty"
    assert "TTTC8434R" in str(info.value)
    assert "12a" not in str(info.value)  # values are never echoed


@pytest.mark.parametrize(
    ("field", "value"),
    [("stck_bsop_date", "2022-05-09"), ("stck_clpr", ""), ("acml_vol", "1.5")],
)
def test_malformed_chart_rows(shared_dir: Path, field: str, value: str) -> None:
    body = load(shared_dir, "inquire-daily-itemchartprice.json")
    body["output2"][0][field] = value
    with pytest.raises(KISResponseError) as info:
        responses.daily_chart_page(body, "FHKST03010100")
    assert info.value.field == f"output2[0].{field}"


def test_missing_output_is_named() -> None:
    with pytest.raises(KISResponseError) as info:
        parse_model(Quote, None, tr_id="FHKST01010100", where="output")
    assert info.value.field == "output"


def test_single_object_is_one_row() -> None:
    rows = parse_rows(
        OrderResult,
        {"ODNO": "1", "KRX_FWDG_ORD_ORGNO": "2", "ORD_TMD": "090000"},
        tr_id="T",
        where="output",
    )
    assert len(rows) == 1


def test_non_object_body_is_a_response_error() -> None:
    error = responses.envelope_error(["x"], tr_id="T", http_status=200, is_order=False)
    assert isinstance(error, KISResponseError)
