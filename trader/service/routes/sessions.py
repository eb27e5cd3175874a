"""Sessions: list, read one, trigger today's, answer an approval."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from graphs.nodes.approval import ApprovalResponse
from graphs.runner import recent_runs
from trader.service.models import Handover, RunSummary, SessionView, Today, Triggered
from trader.service.sessions import SessionService, session_view

router = APIRouter(tags=["sessions"])

Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "No such session"}}
CONFLICT: Responses = {
    409: {"description": "Not waiting for approval, or another request is executing it"}
}


def _service(request: Request) -> SessionService:
    service: SessionService = request.app.state.sessions
    return service


@router.get("/api/sessions")
async def sessions(
    request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> list[RunSummary]:
    """Recent sessions, newest first."""
    url = _service(request).settings.resolved_database_url
    rows = await asyncio.to_thread(recent_runs, url, limit)
    return [RunSummary(**asdict(row)) for row in rows]


@router.post("/api/sessions", responses=CONFLICT)
async def trigger(request: Request) -> Triggered:
    """Run today's session of the settings' portfolio up to its approval (or show it)."""
    view, started = await _service(request).trigger()
    return Triggered(thread_id=view.thread_id, started=started, session=session_view(view))


@router.get("/api/sessions/today")
async def today(request: Request) -> Today:
    """The thread id today's trigger runs: subscribe to its events, then trigger."""
    return Today(thread_id=_service(request).today_thread_id())


EVENT_STREAM: Responses = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "Server-sent events: `step` per node, `fills`, then `done`",
    }
}


@router.get(
    "/api/sessions/{thread_id}/events", response_class=StreamingResponse, responses=EVENT_STREAM
)
async def events(request: Request, thread_id: str) -> StreamingResponse:
    """The progress of the thread's run as server-sent events (`step`, `fills`, `done`).

    Subscribe before triggering or approving (the first line, a comment, says it is
    subscribed), or while the run is under way (its steps so far come first). The stream ends
    after `done`; a comment is sent every 15 s meanwhile.
    """
    return StreamingResponse(
        _service(request).progress.sse_events(thread_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/sessions/{thread_id}", responses=NOT_FOUND)
async def session(request: Request, thread_id: str) -> SessionView:
    """One session: signals, proposed orders with their risk decisions, the pending approval."""
    return session_view(await _service(request).read(thread_id))


@router.post(
    "/api/sessions/{thread_id}/approval",
    responses=NOT_FOUND | CONFLICT,
)
async def approve(request: Request, thread_id: str, response: ApprovalResponse) -> SessionView:
    """Answer the session's approval (as `trader approve`) and run it to its end.

    Orders without a decision are approved only with `approve_all`; otherwise rejected.
    """
    return session_view(await _service(request).approve(thread_id, response))


@router.post(
    "/api/sessions/{thread_id}/approval/handover",
    responses=NOT_FOUND | CONFLICT,
)
async def hand_over(request: Request, thread_id: str, response: ApprovalResponse) -> Handover:
    """Answer the approval as above, but return once its orders are placed (or after 30 s).

    The service goes on following their fills (watch the events stream or the session's
    page); `trader approve` calls this when `SERVICE_FOLLOWS_FILLS` is set.
    """
    return await _service(request).hand_over(thread_id, response)
