"""Korea Exchange trading rules: tick sizes, daily price limits, costs and the trading calendar."""
