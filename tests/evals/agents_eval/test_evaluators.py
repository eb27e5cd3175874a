from decimal import Decimal

from agents.risk.limits import RiskLimits
from evals.agents_eval.calibration import calibration_scores
from evals.agents_eval.evaluators import (
    EvalThresholds,
    direction_accuracy,
    risk_compliance,
    trajectory,
)
from evals.agents_eval.records import (
    ConversationRecord,
    DecisionRecord,
    OrderRecord,
    QuoteRecord,
    SignalRecord,
    ToolCallOut,
)


def _record(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "scenario": "s", "as_of": "2024-03-15", "cash_krw": 100_000_000,
        "equity_krw": 100_000_000, "max_tool_calls": 2, "latency_s": 0.1, "decisions": 1,
        "quotes": {"005930": QuoteRecord(last_price_krw=70_000, prev_close_krw=70_000,
                                         market="KOSPI")},
    }  # fmt: skip
    base.update(fields)
    return DecisionRecord.model_validate(base).model_dump(mode="json")


def _buy(qty: int, price: int | None) -> OrderRecord:
    return OrderRecord(ticker="005930", side="buy", order_type="limit" if price else "market",
                       qty=qty, limit_price_krw=price, origin="signal")  # fmt: skip


def test_risk_compliance_rechecks_every_order_against_the_limits() -> None:
    check = risk_compliance(RiskLimits(), Decimal("0.00015"))
    fine = check(_record(orders=[_buy(50, 70_000)]), {})
    assert fine["score"] == 1.0
    # 100 x 70,000 = 7,000,000 > max_order_krw 5,000,000; 70,050 is off the 100-KRW tick;
    # 95,000 is above the +30 % limit of 91,000
    result = check(_record(orders=[_buy(100, 70_000), _buy(1, 70_050), _buy(1, 95_000)]), {})
    assert result["score"] == 0.0
    assert "order over max_order_krw" in result["comment"]
    assert "limit price off the tick grid" in result["comment"]
    assert "price outside the daily limits" in result["comment"]
    oversold = OrderRecord(ticker="005930", side="sell", order_type="market", qty=5,
                           origin="stop_loss")  # fmt: skip
    sold = check(_record(orders=[oversold], held={"005930": 3}), {})
    assert sold["score"] == 0.0 and "sells more than held" in sold["comment"]


def test_trajectory_flags_repeats_failures_and_an_exhausted_budget() -> None:
    news = ToolCallOut(name="news_titles", args={"ticker": "005930"}, result="[]")
    clean = ConversationRecord(ticker="005930", agent="market_analyst", model_calls=2,
                               offered=["news_titles"], tool_calls=[news])  # fmt: skip
    assert trajectory(_record(conversations=[clean]), {})["score"] == 1.0
    failed = ToolCallOut(name="intraday_bars", args={"ticker": "000660"}, result="error: no")
    messy = clean.model_copy(update={"tool_calls": [news, news, failed]})
    result = trajectory(_record(conversations=[messy]), {})
    # repeated news_titles; intraday_bars not offered, about another ticker, and failed
    assert result["score"] == 0.0
    assert "repeated news_titles" in result["comment"]
    half = clean.model_copy(update={"tool_calls": [news, news]})
    assert trajectory(_record(conversations=[half]), {})["score"] == 0.5
    over = clean.model_copy(update={"model_calls": 4})
    assert trajectory(_record(conversations=[over]), {})["score"] == 0.0


def test_direction_accuracy_and_calibration() -> None:
    signals = [SignalRecord(ticker="005930", status="ok", stance="buy", conviction=0.8),
               SignalRecord(ticker="000660", status="ok", stance="hold", conviction=0.3),
               SignalRecord(ticker="035420", status="data_failed")]  # fmt: skip
    returns = {"005930": 0.03, "000660": 0.05, "035420": -0.1}
    result = direction_accuracy(EvalThresholds())(_record(signals=signals), {"returns": returns})
    assert result["score"] == 0.5 and result["comment"] == "wrong: 000660"
    scores = calibration_scores([(0.8, True), (0.3, False), (0.6, True), (0.6, False)])
    # right calls' convictions (0.8, 0.6) against wrong ones (0.3, 0.6): 3 wins and a tie of 4
    assert scores["calibration"] == 3.5 / 4
    assert calibration_scores([(0.9, True)])["calibration"] is None
