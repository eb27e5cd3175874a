"""The data layer: external APIs → collector → database, and readers that ask the database first.

The architecture note's first data flow. The collector fetches from KIS, ECOS, FRED and OpenDART
only what the database lacks and stores it with the day each fact became known; the readers give
sessions and backtests the same point-in-time view of it, falling back to the source where the
database has nothing. It sits between the agents (who read through the `MarketData` door and
the session context) and the tools and database it joins.
"""
