"""Graph nodes that are not agents: context loading, signals, approval, report."""
