"""`trader serve`: the JSON API over the same settings, database and session runner as the CLI.

- `app`: the app factory (`create_app`), its start-up checks and lifespan.
- `auth`: the bearer token every route but health demands (`SERVICE_AUTH_TOKEN`).
- `errors`: `core.errors` groups mapped to HTTP statuses; no stack trace reaches a response.
- `sessions`: triggering, reading and approving sessions through `SessionRunner`.
- `records`: portfolio, orders and fills read from the database.
- `models`: the typed response bodies (the OpenAPI schema at /docs and /openapi.json).
- `routes`: one module per resource.
"""
