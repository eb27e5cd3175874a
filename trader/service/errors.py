"""`core.errors` groups as HTTP statuses, with the error's one line and never a stack trace.

Every `TraderError` message is written for an operator and carries no secret (the settings
never echo values), so it is the response's `detail`. Anything else is a bug: logged in full,
answered with a fixed sentence.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from agents.venue import VenueMismatchError
from core.errors import (
    BusyError,
    ConfigurationError,
    DatabaseUnavailableError,
    OperationalError,
    RejectedError,
    TemporaryError,
    TraderError,
)
from db.account_marker import OtherDatabaseError

log = logging.getLogger(__name__)


class NotFoundError(ConfigurationError):
    """No such session (404)."""


class NotWaitingError(ConfigurationError):
    """The session is not waiting for approval (409)."""


def status_of(exc: TraderError) -> int:
    """The HTTP status that tells the caller what to do next."""
    if isinstance(exc, NotFoundError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, NotWaitingError | BusyError | VenueMismatchError | OtherDatabaseError):
        return status.HTTP_409_CONFLICT
    if isinstance(exc, ConfigurationError):
        return status.HTTP_400_BAD_REQUEST
    if isinstance(exc, RejectedError):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    if isinstance(exc, TemporaryError | DatabaseUnavailableError):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    if isinstance(exc, OperationalError):
        return status.HTTP_502_BAD_GATEWAY
    return status.HTTP_500_INTERNAL_SERVER_ERROR


async def _trader_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TraderError)
    code = status_of(exc)
    log.log(
        logging.ERROR if code >= 500 else logging.INFO,
        "%s %s: %s",
        request.method,
        request.url.path,
        exc,
    )
    return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=code)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "internal error; the service log has the details", "error": "InternalError"},
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(TraderError, _trader_error)
    app.add_exception_handler(Exception, _unexpected)
