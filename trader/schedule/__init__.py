"""`trader schedule`: the configured sessions, started on KRX trading days.

`plan` says which runs happen on which day (pure; the calendar and the clock are handed in),
`days` holds the calendars (XKRX, cross-checked with KIS on a real account), `ledger` reads
whether a run's session already started, and `runner` puts the plan on APScheduler.
"""
