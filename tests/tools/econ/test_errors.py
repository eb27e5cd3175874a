"""Every documented error code lands in the group that tells the caller what to do."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError, OperationalError, RejectedError, TemporaryError
from tools.econ import EconRateLimitError, EconUnavailableError
from tools.econ.dart import dart_error, read_dart_body
from tools.econ.ecos import ecos_error, read_ecos_body
from tools.econ.errors import EconError
from tools.econ.fred import fred_error, read_fred_body
from tools.econ.fred_models import FredObservationPage

NOT_REGISTERED = "Bad Request.  The value for variable api_key is not registered."


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("INFO-100", ConfigurationError),
        ("ERROR-100", RejectedError),
        ("ERROR-101", RejectedError),
        ("ERROR-200", RejectedError),
        ("ERROR-300", RejectedError),
        ("ERROR-301", RejectedError),
        ("ERROR-400", RejectedError),
        ("ERROR-500", TemporaryError),
        ("ERROR-600", TemporaryError),
        ("ERROR-601", TemporaryError),
        ("ERROR-602", TemporaryError),
        ("ERROR-999", OperationalError),
    ],
)
def test_ecos_codes(code: str, group: type[Exception]) -> None:
    error = ecos_error(code, "message")
    assert isinstance(error, group) and isinstance(error, EconError)
    with pytest.raises(group):
        read_ecos_body("StatisticSearch", {"RESULT": {"CODE": code, "MESSAGE": "m"}})


def test_ecos_rate_limit_is_told_apart_from_outage() -> None:
    assert isinstance(ecos_error("ERROR-602", ""), EconRateLimitError)
    assert isinstance(ecos_error("ERROR-600", ""), EconUnavailableError)


@pytest.mark.parametrize(
    ("code", "message", "group"),
    [
        (400, "Bad Request.  Variable api_key is not set.", ConfigurationError),
        (
            400,
            "Bad Request.  The value for variable api_key is not registered.",
            ConfigurationError,
        ),
        (400, "Bad Request.  The series does not exist.", RejectedError),
        (404, "Not Found.", RejectedError),
        (429, "Too Many Requests.  Exceeded Rate Limit", TemporaryError),
        (500, "Internal Server Error.", TemporaryError),
    ],
)
def test_fred_codes(code: int, message: str, group: type[Exception]) -> None:
    assert isinstance(fred_error(code, message), group)
    with pytest.raises(group):
        read_fred_body({"error_code": code, "error_message": message}, FredObservationPage)


@pytest.mark.parametrize(
    ("status", "group"),
    [
        ("010", ConfigurationError),
        ("011", ConfigurationError),
        ("012", ConfigurationError),
        ("901", ConfigurationError),
        ("101", ConfigurationError),
        ("014", RejectedError),
        ("021", RejectedError),
        ("100", RejectedError),
        ("020", TemporaryError),
        ("800", TemporaryError),
        ("900", OperationalError),
    ],
)
def test_opendart_statuses(status: str, group: type[Exception]) -> None:
    assert isinstance(dart_error(status, "m"), group)
    with pytest.raises(group):
        read_dart_body({"status": status, "message": "m"})


def test_opendart_ok_and_no_data() -> None:
    assert read_dart_body({"status": "000", "message": "정상", "list": []}) is not None
    assert read_dart_body({"status": "013", "message": "조회된 데이타가 없습니다."}) is None
