"""KIS errors, grouped by what the caller should do next.

Every class subclasses one of the application groups in `core.errors`, so a caller can catch
the precise KIS error or just the group:

- retry: `KISTemporaryError` and its `KISTimeoutError`, `KISServerError` (HTTP 5xx, timeouts).
- back off, then retry: `KISRateLimitError` (EGW00201).
- wait before asking for a new token: `KISTokenIssueLimitError` (EGW00133).
- re-authenticate: `KISTokenError` (EGW00123 expired, EGW00121 invalid/revoked).
- ask a paged query again from its first page: `KISQueryAgainError` (SYDB0050).
- record the refusal: `KISOrderRejectedError` (APBK0952, APBK0918, 40910000, 40570000,
  40580000, ...) and `KISRequestRejectedError` (other business codes on queries).
- fix the settings: `KISConfigurationError` (EGW00103 bad app key, EGW02006 wrong server).
- stop: `KISOperationalError`, `KISResponseError` (unknown gateway codes, malformed payloads).

Messages carry the TR ID, the msg_cd and the server's msg1, never a secret: every message passes
through the masker of the client that raised it.
"""

from __future__ import annotations

from core.errors import (
    ConfigurationError,
    OperationalError,
    RejectedError,
    TemporaryError,
    TraderError,
)


class KISError(TraderError):
    """Mixin base for everything the KIS client raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        tr_id: str | None = None,
        msg_cd: str | None = None,
        msg1: str | None = None,
        http_status: int | None = None,
    ) -> None:
        """Keep the broker's codes next to the message for callers that branch on them."""
        super().__init__(message)
        self.tr_id = tr_id
        self.msg_cd = msg_cd
        self.msg1 = msg1
        self.http_status = http_status


class KISTemporaryError(KISError, TemporaryError):
    """A transient failure (5xx, connection reset, timeout): a query may be retried."""


class KISTimeoutError(KISTemporaryError):
    """No answer in time. For an order, the broker may or may not have taken it."""


class KISServerError(KISTemporaryError):
    """HTTP 5xx or an unreadable body from the gateway."""


class KISRateLimitError(KISTemporaryError):
    """EGW00201: more requests per second than the account allows. Back off, then retry."""


class KISTokenIssueLimitError(KISTemporaryError):
    """EGW00133: a new token was asked for too soon after the last one."""


class KISTokenError(KISTemporaryError):
    """EGW00123/EGW00121: the access token expired or was revoked; get a new one and retry."""


class KISQueryAgainError(KISTemporaryError):
    """SYDB0050: the books changed between the pages of a paged inquiry; ask from the first page.

    Not retried as is: the continuation keys of the previous page are void (`_pages` restarts).
    """


class KISRequestRejectedError(KISError, RejectedError):
    """The server refused a query on its merits (e.g. unknown ticker); retrying will not help."""


class KISOrderRejectedError(KISError, RejectedError):
    """The broker refused an order (no cash, market closed, ...). Carries msg_cd and msg1."""


class KISConfigurationError(KISError, ConfigurationError):
    """Bad app key/secret, or a TR sent to the wrong server: fix the settings."""


class KISOperationalError(KISError, OperationalError):
    """An unexpected answer from KIS that needs a person (unknown gateway code, 4xx)."""


class KISResponseError(KISOperationalError):
    """A payload field is missing or malformed. Names the TR and the field."""

    def __init__(self, message: str, *, tr_id: str | None, field: str) -> None:
        """Build the error; `field` is the dotted path of the offending field."""
        super().__init__(message, tr_id=tr_id)
        self.field = field


RATE_LIMIT_CODES = frozenset({"EGW00201"})
TOKEN_CODES = frozenset({"EGW00123", "EGW00121"})
TOKEN_ISSUE_LIMIT_CODES = frozenset({"EGW00133"})
QUERY_AGAIN_CODES = frozenset({"SYDB0050"})
"""조회이후에 자료가 변경되었습니다.(다시 조회하세요) (third-party reports)."""
CONFIGURATION_CODES = frozenset(
    {
        "EGW00103",  # 유효하지 않은 AppKey
        "EGW00105",  # 유효하지 않은 AppSecret
        "EGW02006",  # 모의투자 TR 이 아닙니다 (real TR sent to the virtual host)
    }
)
ORDER_REJECTION_CODES = frozenset(
    {
        "APBK0952",  # 주문가능금액을 초과 (real)
        "APBK0918",  # 장운영시간이 아닙니다 (real)
        "APBK0919",  # 장운영일자가 주문일과 상이
        "APBK0656",  # 해당 종목 정보가 없습니다
        "KIOK0320",  # 장운영시간이 아닙니다
        "40910000",  # 모의투자 주문가능금액을 초과
        "40570000",  # 모의투자 장시작전
        "40580000",  # 모의투자 장종료
    }
)


def error_for(
    msg_cd: str,
    msg1: str,
    *,
    tr_id: str | None,
    http_status: int,
    is_order: bool,
) -> KISError:
    """Translate a KIS error answer into the exception that tells the caller what to do.

    Args:
        msg_cd: the KIS code (`msg_cd` of the envelope or `error_code` of /oauth2).
        msg1: the server's message, already masked.
        tr_id: the TR that was called (empty for /oauth2).
        http_status: the HTTP status of the answer.
        is_order: whether the call was an order; business refusals then become
            `KISOrderRejectedError`.
    """
    cls: type[KISError]
    if msg_cd in RATE_LIMIT_CODES:
        cls = KISRateLimitError
    elif msg_cd in TOKEN_CODES:
        cls = KISTokenError
    elif msg_cd in TOKEN_ISSUE_LIMIT_CODES:
        cls = KISTokenIssueLimitError
    elif msg_cd in QUERY_AGAIN_CODES and not is_order:
        cls = KISQueryAgainError
    elif msg_cd in CONFIGURATION_CODES:
        cls = KISConfigurationError
    elif msg_cd.startswith("EGW"):
        cls = KISServerError if http_status >= 500 else KISOperationalError
    elif is_order:
        cls = KISOrderRejectedError
    elif http_status >= 500:
        cls = KISServerError
    else:
        cls = KISRequestRejectedError
    text = f"KIS {tr_id or 'oauth'} answered {msg_cd}: {msg1.strip()}"
    return cls(text, tr_id=tr_id, msg_cd=msg_cd, msg1=msg1.strip(), http_status=http_status)
