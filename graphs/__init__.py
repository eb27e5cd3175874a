"""LangGraph graphs: the session state, the trading-session graph and the backtest replay driver."""
