"""The agent roles of a trading session: one module per role (node, prompts, output schema)."""
