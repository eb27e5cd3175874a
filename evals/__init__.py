"""Agent evaluations and backtest reports."""
