from agents.fake_llm import INVENTED_FIGURE, ScriptedChatModel
from evals.agents_eval.citation import check_citations, numbers_in
from evals.agents_eval.evaluators import citation
from evals.agents_eval.synthetic import edge_dataset
from evals.agents_eval.target import decide

GIVEN = [
    '{"ticker": "005930", "indicators": {"close": "63300.0", "rsi_14": "28.541382", '
    '"return_20d": "-0.073206"}, "rules_reading": {"conviction": "0.375"}}',
    '["Samsung beats estimates"]',
]


def test_names_and_small_counts_are_not_figures() -> None:
    text = "[gpt-4o-mini] SMA20 above SMA60, 14-day RSI 28.5, 3 of 4 readings, close 63,300"
    assert numbers_in(text) == ["28.5", "63,300"]


def test_figures_rounded_from_the_evidence_are_supported() -> None:
    rationale = "close 63,300; RSI 28.5 (oversold); 20d return down 7.3%; conviction 0.375"
    check = check_citations(rationale, GIVEN)
    assert check.cited == ("63,300", "28.5", "7.3%", "0.375")
    assert check.invented == () and check.score == 1.0


def test_an_invented_figure_scores_zero() -> None:
    check = check_citations("RSI 28.5 and a target price of 71,000", GIVEN)
    assert check.invented == ("71,000",)
    assert check.score == 0.0
    # a wrong rounding is not support either: the RSI was 28.54, not 28.6
    assert check_citations("RSI 28.6", GIVEN).score == 0.0


def test_an_invented_number_in_a_scripted_answer_scores_zero_on_the_citation_evaluator() -> None:
    scenario = edge_dataset().by_id("edge-steady_uptrend")
    (ticker,) = scenario.tickers
    honest = decide(scenario, llm=ScriptedChatModel())
    inventing = decide(scenario, llm=ScriptedChatModel(failures={ticker: "invent"}))

    written = [o for o in inventing.opinions if o.by_llm]
    assert written and all(INVENTED_FIGURE in o.rationale for o in written)
    assert all(o.given for o in written)  # the evaluator checks what the model really read

    reference = scenario.reference()
    assert citation(honest.model_dump(mode="json"), reference)["score"] == 1.0
    result = citation(inventing.model_dump(mode="json"), reference)
    assert result["score"] == 0.0
    assert INVENTED_FIGURE in result["comment"]
