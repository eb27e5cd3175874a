"""The multi-ticker quote (관심종목 멀티종목 시세조회, FHKST11300006): up to 30 tickers a call.

Wire format from the official samples (OTA examples_llm/domestic_stock/intstock_multprice/:
request keys FID_COND_MRKT_DIV_CODE_n / FID_INPUT_ISCD_n for n = 1..30, `output` a list whose
fields are the COLUMN_MAPPING of chk_intstock_multprice.py). The official Postman collection
marks the TR [실전투자] only and the 모의투자 collection lacks it, so the virtual server answers
EGW02006 (the gateway's rule for real-only TRs); `SimulatorConfig.multi_quote=False` removes the
route altogether (HTTP 404), for testing a client's fallback.

UNDOCUMENTED: what KIS sends for a code it does not list. Public clients match the rows to the
slots asked and fall back to the slot when a row carries no code, so the simulator answers every
slot in order and leaves an unknown code's slot blank (no code, no name, zeros): the call itself
succeeds and only that slot is empty.
"""

from __future__ import annotations

from starlette.responses import Response

from tools.kis.simulator import wire
from tools.kis.simulator.fields import rate, sign
from tools.kis.simulator.gateway import Call
from tools.kis.simulator.market import Quote
from tools.kis.simulator.state import SimulatorState
from tools.krx.rules import Market

MAX_SLOTS = 30
FIELDS = (
    "kospi_kosdaq_cls_name",
    "mrkt_trtm_cls_name",
    "hour_cls_code",
    "inter_shrn_iscd",
    "inter_kor_isnm",
    "inter2_prpr",
    "inter2_prdy_vrss",
    "prdy_vrss_sign",
    "prdy_ctrt",
    "acml_vol",
    "inter2_oprc",
    "inter2_hgpr",
    "inter2_lwpr",
    "inter2_llam",
    "inter2_mxpr",
    "inter2_askp",
    "inter2_bidp",
    "seln_rsqn",
    "shnu_rsqn",
    "total_askp_rsqn",
    "total_bidp_rsqn",
    "acml_tr_pbmn",
    "inter2_prdy_clpr",
    "oprc_vrss_hgpr_rate",
    "intr_antc_cntg_vrss",
    "intr_antc_cntg_vrss_sign",
    "intr_antc_cntg_prdy_ctrt",
    "intr_antc_vol",
    "inter2_sdpr",
)
"""The output fields in the official order (chk_intstock_multprice.py COLUMN_MAPPING)."""
TEXT_FIELDS = frozenset(
    {
        "kospi_kosdaq_cls_name",
        "mrkt_trtm_cls_name",
        "hour_cls_code",
        "inter_shrn_iscd",
        "inter_kor_isnm",
        "prdy_vrss_sign",
        "intr_antc_cntg_vrss_sign",
    }
)
RATE_FIELDS = frozenset({"prdy_ctrt", "oprc_vrss_hgpr_rate", "intr_antc_cntg_prdy_ctrt"})


def blank_row() -> dict[str, str]:
    """The row of a slot whose code the server does not list: blank text, zero numbers."""
    return {
        name: "" if name in TEXT_FIELDS else "0.00" if name in RATE_FIELDS else "0"
        for name in FIELDS
    }


def quote_row(q: Quote) -> dict[str, str]:
    """One listed ticker's row, in the official field order."""
    inst = q.instrument
    change = q.price - q.prev_close
    return {
        "kospi_kosdaq_cls_name": "코스닥" if inst.market is Market.KOSDAQ else "코스피",
        "mrkt_trtm_cls_name": "거래정지" if q.halted else "",
        "hour_cls_code": "0",
        "inter_shrn_iscd": inst.ticker,
        "inter_kor_isnm": inst.name,
        "inter2_prpr": str(q.price),
        "inter2_prdy_vrss": str(change),
        "prdy_vrss_sign": sign(q.price, q.prev_close, q.upper, q.lower),
        "prdy_ctrt": rate(change, q.prev_close),
        "acml_vol": str(q.volume),
        "inter2_oprc": str(q.open),
        "inter2_hgpr": str(q.high),
        "inter2_lwpr": str(q.low),
        "inter2_llam": str(q.lower),
        "inter2_mxpr": str(q.upper),
        "inter2_askp": str(q.price + q.tick),
        "inter2_bidp": str(q.price),
        "seln_rsqn": "0",
        "shnu_rsqn": "0",
        "total_askp_rsqn": "0",
        "total_bidp_rsqn": "0",
        "acml_tr_pbmn": str(q.amount),
        "inter2_prdy_clpr": str(q.prev_close),
        "oprc_vrss_hgpr_rate": rate(q.high - q.open, q.open),
        "intr_antc_cntg_vrss": "0",
        "intr_antc_cntg_vrss_sign": "3",
        "intr_antc_cntg_prdy_ctrt": "0.00",
        "intr_antc_vol": "0",
        "inter2_sdpr": str(q.prev_close),
    }


def multi_price(state: SimulatorState, call: Call) -> Response:
    """FHKST11300006: one row per slot asked (1..30, in order); slot 1 is required."""
    if not call.param("FID_INPUT_ISCD_1"):
        return wire.error_response(wire.missing_field("FID_INPUT_ISCD_1"), tr_id=call.tr_id)
    asked = [call.param(f"FID_INPUT_ISCD_{slot}") for slot in range(1, MAX_SLOTS + 1)]
    rows: list[dict[str, str] | None] = [
        quote_row(state.market.quote(t, call.now)) if state.market.instrument(t) else None
        for t in asked
        if t
    ]
    output = [r if r is not None else blank_row() for r in rows]
    body = wire.envelope(wire.QUOTE_OK, output=output)
    return wire.json_response(body, tr_id=call.tr_id)
