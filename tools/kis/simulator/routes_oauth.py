"""/oauth2/tokenP, /oauth2/revokeP, /oauth2/Approval and /uapi/hashkey.

These have no rt_cd envelope: success bodies are the bare fields of the samples, and refusals
are ``{"error_description", "error_code"}`` with HTTP 403.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tools.kis.simulator import wire
from tools.kis.simulator.auth import OAuthError
from tools.kis.simulator.gateway import apply_fault, in_worker, pre_faults
from tools.kis.simulator.state import SimulatorState


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def oauth_routes(state: SimulatorState) -> list[Route]:
    """Build the OAuth and hashkey routes of one simulator."""

    async def guarded(request: Request, body: Any) -> Response:
        fault, early = await pre_faults(state, request.url.path)
        if early is not None:
            return early
        data = await _json(request)

        def process() -> Response:
            try:
                return wire.json_response(body(data, request))
            except OAuthError as exc:
                return wire.oauth_error(exc.code, exc.description)

        answer = await in_worker(state, process)
        if fault is not None:
            return await apply_fault(state, fault, answer)
        return answer

    def token(data: dict[str, Any], _: Request) -> dict[str, Any]:
        return state.auth.issue(
            _text(data, "grant_type"), _text(data, "appkey"), _text(data, "appsecret")
        )

    def revoke(data: dict[str, Any], _: Request) -> dict[str, Any]:
        state.auth.revoke(_text(data, "appkey"), _text(data, "appsecret"), _text(data, "token"))
        return {"code": 200, "message": "접근토큰 폐기에 성공하였습니다"}

    def approval(data: dict[str, Any], _: Request) -> dict[str, Any]:
        if _text(data, "grant_type") != "client_credentials":
            raise OAuthError("EGW00101", "유효하지 않은 grant_type 입니다.")
        state.auth.check_keys(_text(data, "appkey"), _text(data, "secretkey"))
        return {"approval_key": str(uuid.uuid4())}

    def hashkey(data: dict[str, Any], request: Request) -> dict[str, Any]:
        state.auth.check_keys(
            request.headers.get("appkey", ""), request.headers.get("appsecret", "")
        )
        canonical = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).digest()
        return {"BODY": data, "HASH": base64.b64encode(digest).decode("ascii")}

    def route(path: str, handler: Any) -> Route:
        async def endpoint(request: Request) -> Response:
            return await guarded(request, handler)

        return Route(path, endpoint, methods=["POST"])

    return [
        route("/oauth2/tokenP", token),
        route("/oauth2/revokeP", revoke),
        route("/oauth2/Approval", approval),
        route("/uapi/hashkey", hashkey),
    ]
