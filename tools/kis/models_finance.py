"""Financial statement payloads (/uapi/domestic-stock/v1/finance/*, real server only).

Amounts are in 억원 (100 million KRW) as KIS reports them, often with decimals, so they are
`Decimal`, not booked money. Ratios are Decimal percent. `period` is the closing month YYYYMM.
"""

from __future__ import annotations

from pydantic import Field

from tools.kis.fields import KISModel, KText, OptDecimal


class FinanceRow(KISModel):
    """Fields common to every finance row."""

    period: KText = Field(alias="stac_yymm")


class BalanceSheetRow(FinanceRow):
    """balance-sheet (FHKST66430100)."""

    current_assets: OptDecimal = Field(default=None, alias="cras")
    fixed_assets: OptDecimal = Field(default=None, alias="fxas")
    total_assets: OptDecimal = Field(default=None, alias="total_aset")
    current_liabilities: OptDecimal = Field(default=None, alias="flow_lblt")
    fixed_liabilities: OptDecimal = Field(default=None, alias="fix_lblt")
    total_liabilities: OptDecimal = Field(default=None, alias="total_lblt")
    capital_stock: OptDecimal = Field(default=None, alias="cpfn")
    capital_surplus: OptDecimal = Field(default=None, alias="cfp_surp")
    retained_earnings: OptDecimal = Field(default=None, alias="prfi_surp")
    total_equity: OptDecimal = Field(default=None, alias="total_cptl")


class IncomeStatementRow(FinanceRow):
    """income-statement (FHKST66430200)."""

    revenue: OptDecimal = Field(default=None, alias="sale_account")
    cost_of_sales: OptDecimal = Field(default=None, alias="sale_cost")
    gross_profit: OptDecimal = Field(default=None, alias="sale_totl_prfi")
    depreciation: OptDecimal = Field(default=None, alias="depr_cost")
    sga: OptDecimal = Field(default=None, alias="sell_mang")
    operating_profit: OptDecimal = Field(default=None, alias="bsop_prti")
    non_operating_income: OptDecimal = Field(default=None, alias="bsop_non_ernn")
    non_operating_expense: OptDecimal = Field(default=None, alias="bsop_non_expn")
    ordinary_profit: OptDecimal = Field(default=None, alias="op_prfi")
    special_profit: OptDecimal = Field(default=None, alias="spec_prfi")
    special_loss: OptDecimal = Field(default=None, alias="spec_loss")
    net_income: OptDecimal = Field(default=None, alias="thtr_ntin")


class FinancialRatioRow(FinanceRow):
    """financial-ratio (FHKST66430300)."""

    sales_growth: OptDecimal = Field(default=None, alias="grs")
    operating_profit_growth: OptDecimal = Field(default=None, alias="bsop_prfi_inrt")
    net_income_growth: OptDecimal = Field(default=None, alias="ntin_inrt")
    roe: OptDecimal = Field(default=None, alias="roe_val")
    eps: OptDecimal = None
    sps: OptDecimal = None
    bps: OptDecimal = None
    reserve_ratio: OptDecimal = Field(default=None, alias="rsrv_rate")
    debt_ratio: OptDecimal = Field(default=None, alias="lblt_rate")


class ProfitRatioRow(FinanceRow):
    """profit-ratio (FHKST66430400)."""

    return_on_capital: OptDecimal = Field(default=None, alias="cptl_ntin_rate")
    return_on_equity: OptDecimal = Field(default=None, alias="self_cptl_ntin_inrt")
    net_margin: OptDecimal = Field(default=None, alias="sale_ntin_rate")
    gross_margin: OptDecimal = Field(default=None, alias="sale_totl_rate")


class StabilityRatioRow(FinanceRow):
    """stability-ratio (FHKST66430600)."""

    debt_ratio: OptDecimal = Field(default=None, alias="lblt_rate")
    borrowing_dependence: OptDecimal = Field(default=None, alias="bram_depn")
    current_ratio: OptDecimal = Field(default=None, alias="crnt_rate")
    quick_ratio: OptDecimal = Field(default=None, alias="quck_rate")


class GrowthRatioRow(FinanceRow):
    """growth-ratio (FHKST66430800)."""

    sales_growth: OptDecimal = Field(default=None, alias="grs")
    operating_profit_growth: OptDecimal = Field(default=None, alias="bsop_prfi_inrt")
    equity_growth: OptDecimal = Field(default=None, alias="equt_inrt")
    total_assets_growth: OptDecimal = Field(default=None, alias="totl_aset_inrt")
