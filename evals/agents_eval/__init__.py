"""Evaluations of the agents: did a prompt, rule or model change make the decisions better?

A dataset (`datasets.py`) is a list of dated scenarios, each with only the facts known on its
date and the outcome over the next k trading days. The target (`target.py`) runs the session's
decision graph (the very nodes that trade) on one scenario; the evaluators (`evaluators.py`,
`citation.py`, `calibration.py`) score what it decided, in [0, 1]; the runner (`runner.py`)
hands target and evaluators to `langsmith.evaluate` (uploads off unless a LangSmith key is
given) and stores each run (`store.py`) so two runs can be compared (`compare.py`).
"""
