"""Trading and account payloads: order answers, balance, daily orders/fills, buying power.

Money is int KRW. Average prices keep their 4 decimals as `Decimal`. Order numbers (ODNO) stay
strings: their zero padding is part of the identity.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field

from tools.kis.fields import KDate, KDecimal, KInt, KISModel, KText, KTime, OptDate, OptDecimal


class OrderResult(KISModel):
    """order-cash / order-rvsecncl `output` (upper-case keys for order-cash, lower for rvsecncl)."""

    org_no: KText = Field(validation_alias=AliasChoices("KRX_FWDG_ORD_ORGNO", "krx_fwdg_ord_orgno"))
    """한국거래소전송주문조직번호: needed to revise or cancel the order."""
    order_no: KText = Field(validation_alias=AliasChoices("ODNO", "odno"))
    ordered_at: KTime = Field(validation_alias=AliasChoices("ORD_TMD", "ord_tmd"))


class Holding(KISModel):
    """One inquire-balance `output1` row (one per ticker per trade type)."""

    ticker: KText = Field(alias="pdno")
    name: KText = Field(default="", alias="prdt_name")
    trade_type: KText = Field(default="", alias="trad_dvsn_name")
    qty: KInt = Field(alias="hldg_qty")
    sellable_qty: KInt = Field(alias="ord_psbl_qty")
    bought_today: KInt = Field(default=0, alias="thdt_buyqty")
    sold_today: KInt = Field(default=0, alias="thdt_sll_qty")
    avg_price: KDecimal = Field(alias="pchs_avg_pric")
    purchase_amount: KInt = Field(alias="pchs_amt")
    price: KInt = Field(alias="prpr")
    eval_amount: KInt = Field(alias="evlu_amt")
    eval_pnl: KInt = Field(alias="evlu_pfls_amt")
    eval_pnl_rate: KDecimal = Field(alias="evlu_pfls_rt")
    loan_date: OptDate = Field(default=None, alias="loan_dt")
    loan_amount: KInt = Field(default=0, alias="loan_amt")


class BalanceSummary(KISModel):
    """inquire-balance `output2[0]`: cash and totals."""

    deposit: KInt = Field(alias="dnca_tot_amt")
    """예수금총액."""
    d1_cash: KInt = Field(alias="nxdy_excc_amt")
    d2_cash: KInt = Field(alias="prvs_rcdl_excc_amt")
    bought_today_amount: KInt = Field(default=0, alias="thdt_buy_amt")
    sold_today_amount: KInt = Field(default=0, alias="thdt_sll_amt")
    costs_today: KInt = Field(default=0, alias="thdt_tlex_amt")
    securities_eval: KInt = Field(alias="scts_evlu_amt")
    total_eval: KInt = Field(alias="tot_evlu_amt")
    net_assets: KInt = Field(alias="nass_amt")
    purchase_total: KInt = Field(alias="pchs_amt_smtl_amt")
    eval_total: KInt = Field(alias="evlu_amt_smtl_amt")
    pnl_total: KInt = Field(alias="evlu_pfls_smtl_amt")


class Balance(KISModel):
    """The whole balance after paging: holdings and the cash summary."""

    holdings: list[Holding]
    summary: BalanceSummary


class DailyOrder(KISModel):
    """One inquire-daily-ccld `output1` row: an order and what was filled of it."""

    day: KDate = Field(alias="ord_dt")
    branch: KText = Field(default="", alias="ord_gno_brno")
    order_no: KText = Field(alias="odno")
    original_order_no: KText = Field(default="", alias="orgn_odno")
    side_code: KText = Field(alias="sll_buy_dvsn_cd")
    """01 sell, 02 buy."""
    side_name: KText = Field(default="", alias="sll_buy_dvsn_cd_name")
    ticker: KText = Field(alias="pdno")
    name: KText = Field(default="", alias="prdt_name")
    qty: KInt = Field(alias="ord_qty")
    price: KInt = Field(alias="ord_unpr")
    ordered_at: KTime = Field(alias="ord_tmd")
    filled_qty: KInt = Field(alias="tot_ccld_qty")
    avg_fill_price: KDecimal = Field(alias="avg_prvs")
    filled_amount: KInt = Field(default=0, alias="tot_ccld_amt")
    cancelled: KText = Field(default="", alias="cncl_yn")
    order_type: KText = Field(default="", alias="ord_dvsn_cd")
    remaining_qty: KInt = Field(default=0, alias="rmn_qty")
    rejected_qty: KInt = Field(default=0, alias="rjct_qty")
    cancel_confirmed_qty: KInt = Field(
        default=0, validation_alias=AliasChoices("cnc_cfrm_qty", "cncl_cfrm_qty")
    )
    """취소확인수량: `cnc_cfrm_qty` in the official field list, `cncl_cfrm_qty` in doc copies."""

    @property
    def is_buy(self) -> bool:
        """Whether the order buys (sll_buy_dvsn_cd 02)."""
        return self.side_code == "02"


class DailyOrderSummary(KISModel):
    """inquire-daily-ccld `output2` (an object, not a list)."""

    ordered_qty: KInt = Field(alias="tot_ord_qty")
    filled_qty: KInt = Field(alias="tot_ccld_qty")
    filled_amount: KInt = Field(alias="tot_ccld_amt")
    estimated_costs: KInt = Field(default=0, alias="prsm_tlex_smtl")
    avg_price: OptDecimal = Field(default=None, alias="pchs_avg_pric")


class DailyOrders(KISModel):
    """All pages of inquire-daily-ccld for a date range."""

    orders: list[DailyOrder]
    summary: DailyOrderSummary | None


class BuyingPower(KISModel):
    """inquire-psbl-order `output` (TTTC8908R)."""

    cash: KInt = Field(alias="ord_psbl_cash")
    substitute: KInt = Field(default=0, alias="ord_psbl_sbst")
    reusable: KInt = Field(default=0, alias="ruse_psbl_amt")
    price_used: KInt = Field(alias="psbl_qty_calc_unpr")
    no_margin_amount: KInt = Field(alias="nrcvb_buy_amt")
    no_margin_qty: KInt = Field(alias="nrcvb_buy_qty")
    max_amount: KInt = Field(alias="max_buy_amt")
    max_qty: KInt = Field(alias="max_buy_qty")
