"""The gateway in front of every endpoint: counters, faults, app key, token, rate limit, TR ID.

Checks run in the order a request meets them at KIS: the app key (EGW00103), the bearer token
(EGW00121 invalid, EGW00123 expired), the per-second limit (EGW00201, counted at arrival), then
the TR ID of the path on this server (EGW02006 for a real-only TR on the virtual server, OPSQ0002
otherwise). Query keys
are matched case-insensitively. POST bodies are taken as sent: their keys must be exactly the
documented uppercase ones (OPSQ2001 names the first missing or unknown key) and their values
reach the handler untouched.

The checks and the handler touch the SQLite store, which blocks: they run in a worker thread
(`in_worker`), one request at a time as on a single event loop, so the loop that serves the
simulator (or, in-process, the application that embeds it) never waits on the store.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tools.kis.simulator import wire
from tools.kis.simulator.faults import Fault
from tools.kis.simulator.state import SimulatorState


@dataclass(frozen=True, slots=True)
class Call:
    """A /uapi request as a handler sees it."""

    path: str
    """The path below /uapi/domestic-stock/v1, e.g. "/quotations/inquire-price"."""
    tr_id: str
    tr_cont: str
    params: dict[str, str]
    """Query parameters, keys upper-cased."""
    body: dict[str, str]
    """JSON body fields exactly as sent (keys checked against the documented ones)."""
    now: datetime

    def param(self, key: str, default: str = "") -> str:
        """Return a query parameter (key in any case), stripped."""
        return self.params.get(key.upper(), default).strip()

    def raw_param(self, key: str) -> str:
        """Return a query parameter exactly as sent (continuation keys keep their padding)."""
        return self.params.get(key.upper(), "")


T = TypeVar("T")
Handler = Callable[[SimulatorState, Call], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


async def hold(state: SimulatorState) -> None:
    """Sleep for the configured timeout delay, or until the server stops."""
    deadline = time.monotonic() + state.cfg.timeout_delay_s
    while time.monotonic() < deadline and not state.stopping.is_set():
        await asyncio.sleep(0.05)


def malformed() -> Response:
    """Return a 200 whose JSON body is cut off."""
    return Response('{"rt_cd":"0","msg_cd":"MCA0', media_type="application/json; charset=utf-8")


async def apply_fault(state: SimulatorState, fault: Fault, answer: Response | None) -> Response:
    """Turn an armed fault into the answer the client gets (`answer` when it was processed)."""
    if fault.kind == "http_500":
        return PlainTextResponse("Internal Server Error", status_code=500)
    if fault.kind == "malformed_json":
        return malformed()
    await hold(state)
    if answer is not None:
        return answer
    return PlainTextResponse("Gateway Timeout", status_code=504)


async def pre_faults(state: SimulatorState, path: str) -> tuple[Fault | None, Response | None]:
    """Count the request and apply a fault that acts before processing."""
    state.stats.count_request(path)
    fault = state.faults.take(path)
    if fault is None:
        return None, None
    if fault.kind == "revoke_tokens":
        state.auth.expire_all()
        return None, None
    if fault.kind == "invalidate_tokens":
        state.auth.revoke_all()
        return None, None
    if fault.kind == "rate_limit_burst":
        state.stats.count_rate_limited()
        return None, wire.error_response(wire.RATE_LIMITED)
    if not fault.after_processing:
        return None, await apply_fault(state, fault, None)
    return fault, None


def _tr_error(state: SimulatorState, path: str, tr_id: str, accepted: tuple[str, ...]) -> wire.Msg:
    if state.cfg.is_virtual and (
        path in wire.REAL_ONLY
        or (path in wire.TRADING_TRS_REAL and tr_id in wire.TRADING_TRS_REAL[path])
    ):
        return wire.NOT_VIRTUAL_TR
    return wire.UNKNOWN_TR


def accepted_trs(state: SimulatorState, path: str) -> tuple[str, ...]:
    """Return the TR IDs this server answers on a path."""
    if path in wire.QUOTE_TRS:
        if state.cfg.is_virtual and path in wire.REAL_ONLY:
            return ()
        return (wire.QUOTE_TRS[path],)
    return wire.trading_trs(path, state.cfg.mode)


async def _read_body(request: Request) -> dict[str, str] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


async def in_worker(state: SimulatorState, work: Callable[[], T]) -> T:
    """Run a request's synchronous part (store, matching) in a worker thread, serialised."""

    def serialised() -> T:
        with state.serial:
            return work()

    return await asyncio.to_thread(serialised)


def uapi(state: SimulatorState, path: str, handler: Handler) -> Endpoint:
    """Wrap a handler with the gateway checks for one /uapi path."""
    full = wire.PATH_PREFIX + path

    async def endpoint(request: Request) -> Response:
        arrived = state.limiter.arrived_at()  # before any await: queueing must not bunch requests
        fault, early = await pre_faults(state, full)
        if early is not None:
            return early
        # Read before the checks (it is the only await); a bad body still answers after them.
        body = await _read_body(request) if request.method == "POST" else {}
        headers = request.headers

        def process() -> Response:
            appkey = headers.get("appkey", "")
            if appkey != state.cfg.app_key or headers.get("appsecret", "") != state.cfg.app_secret:
                return wire.error_response(wire.INVALID_APPKEY_GW)
            token_error = state.auth.check(headers.get("authorization", ""), appkey)
            if token_error is not None:
                return wire.error_response(token_error)
            if not state.limiter.allow(appkey, arrived):
                state.stats.count_rate_limited()
                return wire.error_response(wire.RATE_LIMITED)
            tr_id = headers.get("tr_id", "").strip().upper()
            accepted = accepted_trs(state, path)
            if tr_id not in accepted:
                return wire.error_response(_tr_error(state, path, tr_id, accepted), tr_id=tr_id)
            if body is None:
                return wire.error_response(wire.BAD_INPUT, tr_id=tr_id)
            body_error = wire.body_error(path, body)
            if body_error is not None:
                return wire.error_response(body_error, tr_id=tr_id)
            now = state.cfg.clock.now()
            state.matcher.sweep(now)
            params = {k.upper(): v for k, v in request.query_params.items()}
            call = Call(path, tr_id, headers.get("tr_cont", "").strip().upper(), params, body, now)
            return handler(state, call)

        answer = await in_worker(state, process)
        if fault is not None:
            return await apply_fault(state, fault, answer)
        return answer

    return endpoint
