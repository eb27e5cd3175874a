"""The backtester: replays a strategy day by day over daily bars with a simulated KRX broker.

A decision made with day t's data fills at day t+1's open. Modules:
`data` (bar sources), `view` (the point-in-time view a strategy sees), `broker` (fills, costs,
slippage), `engine` (the replay loop), `strategies`, `metrics`, `report` (HTML/CSV), `store`
(database rows).
"""
