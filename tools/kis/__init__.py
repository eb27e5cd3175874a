"""KIS Open API: client, token cache, rate limiter, errors, typed models, broker and simulator."""
