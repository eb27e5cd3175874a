"""`trader approve` with a service running: hand the answer over, return once orders are placed.

With `SERVICE_FOLLOWS_FILLS=true` the command POSTs its answer (the same `ApprovalResponse`)
to the service at `SERVICE_PUBLIC_URL` (`/api/sessions/{thread}/approval/handover`, with
`SERVICE_AUTH_TOKEN`). The service checks it by the same rules, executes it under the same
run lease, answers once the orders are placed, and goes on following their fills (its page
and events stream show them, its notifications report them). So the terminal is free in
seconds instead of for the follow window.

A service that cannot be reached has not seen the answer, so the command follows the fills
itself, as without the setting. A service that was reached but did not answer in time may
have taken it: that is an error saying how to look, never a second try.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from core.errors import ConfigurationError, OperationalError
from graphs.nodes.approval import ApprovalResponse
from graphs.step_lines import describe_update
from trader.cli.console import console
from trader.service.models import Handover
from trader.service.sessions import HANDOVER_WAIT_S
from trader.settings import Settings
from trader.wiring.notify import session_link

CONNECT_TIMEOUT_S = 3.0
ANSWER_MARGIN_S = 60.0
"""How much longer than the service's own wait the command waits for its answer."""


def _detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail) if detail else f"HTTP {response.status_code}"


def hand_to_service(
    settings: Settings,
    thread_id: str,
    response: ApprovalResponse,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Handover | None:
    """Give the answer to the service; its handover, or None when no service answers there.

    Raises:
        ConfigurationError: the service refused the token or the answer (nothing was sent).
        OperationalError: the service failed, or took the request and did not answer in time
            (the answer may have been applied: `trader session status` says).
    """
    base = settings.service_public_url.rstrip("/")
    url = f"{base}/api/sessions/{quote(thread_id, safe=':')}/approval/handover"
    headers = {}
    if settings.service_auth_token is not None:
        headers["Authorization"] = f"Bearer {settings.service_auth_token.get_secret_value()}"
    timeout = httpx.Timeout(HANDOVER_WAIT_S + ANSWER_MARGIN_S, connect=CONNECT_TIMEOUT_S)
    try:
        with httpx.Client(transport=transport, timeout=timeout) as client:
            answer = client.post(url, json=response.model_dump(mode="json"), headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return None
    except httpx.TimeoutException:
        raise OperationalError(
            f"the service at {base} took the answer and did not reply in time; it may have "
            f"been applied: see `trader session status {thread_id}`"
        ) from None
    except httpx.HTTPError as exc:
        raise OperationalError(
            f"the service at {base} failed ({type(exc).__name__}); see "
            f"`trader session status {thread_id}`"
        ) from None
    if answer.status_code == httpx.codes.OK:
        return Handover.model_validate(answer.json())
    if answer.status_code == httpx.codes.UNAUTHORIZED:
        raise ConfigurationError(
            f"the service at {base} refused the token: set SERVICE_AUTH_TOKEN to the "
            "service's; nothing was sent"
        )
    if answer.status_code < 500:
        raise ConfigurationError(f"the service refused the answer: {_detail(answer)}")
    raise OperationalError(
        f"the service at {base} failed: {_detail(answer)}; see `trader session status {thread_id}`"
    )


def print_handover(settings: Settings, handed: Handover) -> None:
    """Say what the service did with the answer and where to watch the rest."""
    link = session_link(settings, handed.thread_id)
    progress = handed.progress
    if handed.finished:
        report = handed.session.report if handed.session else None
        executions = [e.model_dump(mode="json") for e in report.executions] if report else []
        line = describe_update("executor", {"executions": executions})
        console.print(f"The service finished the session: {line}.", highlight=False)
    elif progress is None:
        console.print(
            "The service took the answer and is sending the orders; it follows their fills.",
            highlight=False,
        )
    else:
        waiting = (
            f", {progress.waiting} still to send (KIS is not taking orders yet)"
            if progress.waiting
            else ""
        )
        console.print(
            f"The service placed {progress.placed} of {progress.orders} orders{waiting}; "
            f"it follows their fills ({progress.filled} filled so far).",
            highlight=False,
        )
    console.print(f"Watch: {link}", highlight=False, markup=False)
