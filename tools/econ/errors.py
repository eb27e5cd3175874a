"""Errors of the economic-data clients (ECOS, FRED, OpenDART), grouped by what the caller does.

Each service reports failures its own way (ECOS `RESULT.CODE`, FRED `error_code`, OpenDART
`status`); the clients translate them into these classes, each a subclass of one group of
`core.errors`, so the fundamental agent can catch a group without knowing the service:

- `EconConfigurationError` (ConfigurationError): the key is missing, unknown, suspended, expired or
  not allowed from this IP. Stop; a person must fix the settings.
- `EconRequestError` (RejectedError): the request itself is wrong (bad parameter, range too large).
  Retrying it unchanged is pointless; mark the ticker/indicator as failed.
- `EconRateLimitError` (TemporaryError): the service throttles this key. Back off.
- `EconUnavailableError` (TemporaryError): maintenance, server or network failure. Retry later.
- `EconResponseError` (OperationalError): the service answered something we cannot read or an
  undefined error. A person should look.

"No data" is never an error: ECOS INFO-200 and OpenDART 013 become empty results.
Messages never contain an API key: the clients redact the key before building them.
"""

from __future__ import annotations

from core.errors import (
    ConfigurationError,
    OperationalError,
    RejectedError,
    TemporaryError,
    TraderError,
)


class EconError(TraderError):
    """Base of every error raised by the economic-data clients.

    Attributes:
        service: ``ECOS``, ``FRED`` or ``OpenDART``.
        code: the service's own code (``ERROR-101``, ``400``, ``020``) or a short local tag
            (``network``, ``http-503``, ``malformed``).
        detail: the service's message (or ours), already free of secrets.
    """

    def __init__(self, service: str, code: str, detail: str) -> None:
        """Build the one-line message ``<service> <code>: <detail>``."""
        super().__init__(f"{service} {code}: {detail}")
        self.service = service
        self.code = code
        self.detail = detail


class EconConfigurationError(EconError, ConfigurationError):
    """The API key is missing, unregistered, suspended, expired or refused for this IP."""


class EconRequestError(EconError, RejectedError):
    """The request was refused on its merits (invalid parameter, range too large)."""


class EconRateLimitError(EconError, TemporaryError):
    """The service throttles this key; back off before calling again."""


class EconUnavailableError(EconError, TemporaryError):
    """Maintenance, a server error or a network failure; the same call may succeed later."""


class EconResponseError(EconError, OperationalError):
    """The answer could not be understood, or the service reported an undefined error."""
