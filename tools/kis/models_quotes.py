"""Quotation payloads: current price, daily and minute bars, news titles, stock info, holidays.

Field names are ours; the KIS name is the alias. Prices are int KRW, rates Decimal percent.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from tools.kis.fields import (
    KBool,
    KDate,
    KDecimal,
    KInt,
    KISModel,
    KText,
    KTime,
    OptBool,
    OptDate,
    OptDecimal,
    OptInt,
)


class Quote(KISModel):
    """inquire-price `output` (FHKST01010100)."""

    ticker: KText = Field(alias="stck_shrn_iscd")
    price: KInt = Field(alias="stck_prpr")
    change: KInt = Field(alias="prdy_vrss")
    change_sign: KText = Field(alias="prdy_vrss_sign")
    change_rate: KDecimal = Field(alias="prdy_ctrt")
    open: KInt = Field(alias="stck_oprc")
    high: KInt = Field(alias="stck_hgpr")
    low: KInt = Field(alias="stck_lwpr")
    upper_limit: KInt = Field(alias="stck_mxpr")
    lower_limit: KInt = Field(alias="stck_llam")
    base_price: KInt = Field(alias="stck_sdpr")
    volume: KInt = Field(alias="acml_vol")
    trade_value: KInt = Field(alias="acml_tr_pbmn")
    tick_size: OptInt = Field(default=None, alias="aspr_unit")
    lot_size: OptInt = Field(default=None, alias="hts_deal_qty_unit_val")
    per: OptDecimal = None
    pbr: OptDecimal = None
    eps: OptDecimal = None
    bps: OptDecimal = None
    market_cap_100m: OptInt = Field(default=None, alias="hts_avls")
    """Market capitalisation in 억원 (100 million KRW)."""
    listed_shares: OptInt = Field(default=None, alias="lstn_stcn")
    w52_high: OptInt = Field(default=None, alias="w52_hgpr")
    w52_low: OptInt = Field(default=None, alias="w52_lwpr")
    halted: OptBool = Field(default=None, alias="temp_stop_yn")
    status_code: KText = Field(default="", alias="iscd_stat_cls_code")
    warning_code: KText = Field(default="", alias="mrkt_warn_cls_code")
    vi_code: KText = Field(default="", alias="vi_cls_code")


class MultiQuote(KISModel):
    """One row of intstock-multprice `output` (FHKST11300006): a watchlist quote.

    The multi-ticker quote answers up to 30 tickers a call with each one's price and the day's
    limits (`inter2_mxpr`/`inter2_llam`), but without PER/PBR or the halt flag of
    inquire-price. Field names are from the official sample (OTA examples_llm/domestic_stock/
    intstock_multprice/chk_intstock_multprice.py). A slot whose code the server does not know
    comes back blank (no code, zero price); `price` is then None.
    """

    ticker: KText = Field(default="", alias="inter_shrn_iscd")
    name: KText = Field(default="", alias="inter_kor_isnm")
    market_name: KText = Field(default="", alias="kospi_kosdaq_cls_name")
    """코스피 or 코스닥 (the listing board)."""
    measure_name: KText = Field(default="", alias="mrkt_trtm_cls_name")
    """시장 조치 구분 명: the market measure on the stock (e.g. 거래정지), blank when none."""
    price: OptInt = Field(default=None, alias="inter2_prpr")
    change: OptInt = Field(default=None, alias="inter2_prdy_vrss")
    change_sign: KText = Field(default="", alias="prdy_vrss_sign")
    change_rate: OptDecimal = Field(default=None, alias="prdy_ctrt")
    open: OptInt = Field(default=None, alias="inter2_oprc")
    high: OptInt = Field(default=None, alias="inter2_hgpr")
    low: OptInt = Field(default=None, alias="inter2_lwpr")
    upper_limit: OptInt = Field(default=None, alias="inter2_mxpr")
    lower_limit: OptInt = Field(default=None, alias="inter2_llam")
    ask: OptInt = Field(default=None, alias="inter2_askp")
    bid: OptInt = Field(default=None, alias="inter2_bidp")
    volume: OptInt = Field(default=None, alias="acml_vol")
    trade_value: OptInt = Field(default=None, alias="acml_tr_pbmn")
    prev_close: OptInt = Field(default=None, alias="inter2_prdy_clpr")
    base_price: OptInt = Field(default=None, alias="inter2_sdpr")
    """기준가, the base of today's limits (normally the previous close)."""

    @property
    def listed(self) -> bool:
        """Tell whether the server knew the code (a blank slot has no price)."""
        return self.price is not None and self.price > 0


class DailyChartSummary(KISModel):
    """inquire-daily-itemchartprice `output1`."""

    ticker: KText = Field(alias="stck_shrn_iscd")
    name: KText = Field(default="", alias="hts_kor_isnm")
    price: KInt = Field(alias="stck_prpr")
    prev_close: OptInt = Field(default=None, alias="stck_prdy_clpr")
    change: OptInt = Field(default=None, alias="prdy_vrss")
    change_rate: OptDecimal = Field(default=None, alias="prdy_ctrt")
    volume: OptInt = Field(default=None, alias="acml_vol")
    upper_limit: OptInt = Field(default=None, alias="stck_mxpr")
    lower_limit: OptInt = Field(default=None, alias="stck_llam")
    listed_shares: OptInt = Field(default=None, alias="lstn_stcn")
    per: OptDecimal = None
    pbr: OptDecimal = None
    eps: OptDecimal = None


class DailyBar(KISModel):
    """One row of inquire-daily-itemchartprice `output2` (newest first on the wire)."""

    day: KDate = Field(alias="stck_bsop_date")
    open: KInt = Field(alias="stck_oprc")
    high: KInt = Field(alias="stck_hgpr")
    low: KInt = Field(alias="stck_lwpr")
    close: KInt = Field(alias="stck_clpr")
    volume: KInt = Field(alias="acml_vol")
    trade_value: OptInt = Field(default=None, alias="acml_tr_pbmn")
    change: OptInt = Field(default=None, alias="prdy_vrss")
    change_sign: KText = Field(default="", alias="prdy_vrss_sign")
    event_code: KText = Field(default="", alias="flng_cls_code")
    """00 none, 01 권리락, 02 배당락, ..."""
    adjusted: OptBool = Field(default=None, alias="mod_yn")


class DailyChart(KISModel):
    """A daily chart: summary plus bars, oldest first once paging has merged the pages."""

    summary: DailyChartSummary | None
    bars: list[DailyBar]


class MinuteChartSummary(KISModel):
    """inquire-time-itemchartprice `output1`."""

    name: KText = Field(default="", alias="hts_kor_isnm")
    price: KInt = Field(alias="stck_prpr")
    prev_close: OptInt = Field(default=None, alias="stck_prdy_clpr")
    change: OptInt = Field(default=None, alias="prdy_vrss")
    change_rate: OptDecimal = Field(default=None, alias="prdy_ctrt")
    volume: OptInt = Field(default=None, alias="acml_vol")
    trade_value: OptInt = Field(default=None, alias="acml_tr_pbmn")


class MinuteBar(KISModel):
    """One 1-minute bar of today (inquire-time-itemchartprice `output2`)."""

    day: KDate = Field(alias="stck_bsop_date")
    minute: KTime = Field(alias="stck_cntg_hour")
    open: KInt = Field(alias="stck_oprc")
    high: KInt = Field(alias="stck_hgpr")
    low: KInt = Field(alias="stck_lwpr")
    close: KInt = Field(alias="stck_prpr")
    volume: KInt = Field(alias="cntg_vol")
    cumulative_value: OptInt = Field(default=None, alias="acml_tr_pbmn")


class MinuteChart(KISModel):
    """Today's minute bars up to a time (at most 30 per call), newest first as sent."""

    summary: MinuteChartSummary | None
    bars: list[MinuteBar]


class NewsTitle(KISModel):
    """One row of news-title (FHKST01011800): a headline, no body, no link."""

    title: KText = Field(alias="hts_pbnt_titl_cntt")
    day: KDate = Field(alias="data_dt")
    at: KTime = Field(alias="data_tm")
    serial: KText = Field(default="", alias="cntt_usiq_srno")
    provider: KText = Field(default="", alias="dorg")


class StockInfo(KISModel):
    """search-stock-info `output` (CTPF1002R)."""

    ticker: KText = Field(alias="pdno")
    """The 6-character short code; KIS may send the 12-character form `00000A005930`."""
    product_type: KText = Field(default="", alias="prdt_type_cd")
    name: KText = Field(alias="prdt_name")
    short_name: KText = Field(default="", alias="prdt_abrv_name")
    english_name: KText = Field(default="", alias="prdt_eng_name")
    market_id: KText = Field(default="", alias="mket_id_cd")
    security_group: KText = Field(default="", alias="scty_grp_id_cd")
    listed_shares: OptInt = Field(default=None, alias="lstg_stqt")
    par_value: OptDecimal = Field(default=None, alias="papr")
    kospi_listed_on: OptDate = Field(default=None, alias="scts_mket_lstg_dt")
    kosdaq_listed_on: OptDate = Field(default=None, alias="kosdaq_mket_lstg_dt")
    delisted_on: OptDate = Field(default=None, alias="lstg_abol_dt")
    industry: KText = Field(default="", alias="std_idst_clsf_cd_name")
    halted: OptBool = Field(default=None, alias="tr_stop_yn")
    administrative: OptBool = Field(default=None, alias="admn_item_yn")
    prev_close: OptInt = Field(default=None, alias="bfdy_clpr")

    @field_validator("ticker")
    @classmethod
    def _short_code(cls, value: str) -> str:
        # search-stock-info echoes the product number padded to 12 characters (00000A + code).
        if len(value) == 12 and value.startswith("00000"):
            return value[-6:]
        return value


class HolidayDay(KISModel):
    """One day of chk-holiday (CTCA0903R). `open_day` decides whether orders can be placed."""

    day: KDate = Field(alias="bass_dt")
    weekday_code: KText = Field(default="", alias="wday_dvsn_cd")
    business_day: KBool = Field(alias="bzdy_yn")
    trading_day: KBool = Field(alias="tr_day_yn")
    open_day: KBool = Field(alias="opnd_yn")
    settlement_day: KBool = Field(alias="sttl_day_yn")


__all__ = [
    "DailyBar",
    "DailyChart",
    "DailyChartSummary",
    "HolidayDay",
    "MinuteBar",
    "MinuteChart",
    "MinuteChartSummary",
    "MultiQuote",
    "NewsTitle",
    "Quote",
    "StockInfo",
]
