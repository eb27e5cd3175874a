"""The KIS (한국투자증권) Open API client: typed models, token cache, rate limiter, broker."""
