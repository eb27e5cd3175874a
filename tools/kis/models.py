"""All KIS payload models, importable from one place."""

from tools.kis.models_auth import ApprovalResponse, HashkeyResponse, RevokeResponse, TokenResponse
from tools.kis.models_finance import (
    BalanceSheetRow,
    FinancialRatioRow,
    GrowthRatioRow,
    IncomeStatementRow,
    ProfitRatioRow,
    StabilityRatioRow,
)
from tools.kis.models_quotes import (
    DailyBar,
    DailyChart,
    DailyChartSummary,
    HolidayDay,
    MinuteBar,
    MinuteChart,
    MinuteChartSummary,
    NewsTitle,
    Quote,
    StockInfo,
)
from tools.kis.models_trading import (
    Balance,
    BalanceSummary,
    BuyingPower,
    DailyOrder,
    DailyOrders,
    DailyOrderSummary,
    Holding,
    OrderResult,
)

__all__ = [
    "ApprovalResponse",
    "Balance",
    "BalanceSheetRow",
    "BalanceSummary",
    "BuyingPower",
    "DailyBar",
    "DailyChart",
    "DailyChartSummary",
    "DailyOrder",
    "DailyOrderSummary",
    "DailyOrders",
    "FinancialRatioRow",
    "GrowthRatioRow",
    "HashkeyResponse",
    "Holding",
    "HolidayDay",
    "IncomeStatementRow",
    "MinuteBar",
    "MinuteChart",
    "MinuteChartSummary",
    "NewsTitle",
    "OrderResult",
    "ProfitRatioRow",
    "Quote",
    "RevokeResponse",
    "StabilityRatioRow",
    "StockInfo",
    "TokenResponse",
]
