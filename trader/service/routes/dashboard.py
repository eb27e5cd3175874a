"""The dashboard: one page at `/` and `/sessions/{thread_id}`, its script, style and chart library.

Everything is served by this app from the installed packages, so the page works offline (no
CDN). The page and its files carry no data and need no token; the data comes from the API,
which the page calls with the bearer token the user typed (kept in the tab's sessionStorage).
The chart library is plotly.js, shipped inside the `plotly` Python package.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["dashboard"], include_in_schema=False)

STATIC = files("trader.service") / "static"
"""The dashboard's own files, inside the package."""
VENDOR_CACHE = "public, max-age=86400"
"""plotly.js changes only with the installed package: browsers keep it a day, then revalidate
with its ETag (the package's version), which answers 304 until an upgrade."""
PAGE_CACHE = "no-cache"
"""The page, script and style are checked on every load, so an upgrade shows at once."""

_FILES = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}


@cache
def _read(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@cache
def _plotly_etag() -> str:
    from importlib.metadata import version

    return f'"plotly-{version("plotly")}"'


@cache
def _plotly_js() -> str:
    # 4.8 MB of JavaScript, read on the first request; plotly ships no type hints.
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    js: str = get_plotlyjs()
    return js


def _page() -> HTMLResponse:
    return HTMLResponse(_read("index.html"), headers={"Cache-Control": PAGE_CACHE})


@router.get("/")
def home() -> HTMLResponse:
    """The dashboard on today's (or the latest) session."""
    return _page()


@router.get("/sessions/{thread_id}")
def session_page(thread_id: str) -> HTMLResponse:
    """The dashboard on one session (notification links point here)."""
    return _page()


@router.get("/static/vendor/plotly.min.js")
def plotly_js(request: Request) -> Response:
    """plotly.js from the installed `plotly` package."""
    headers = {"Cache-Control": VENDOR_CACHE, "ETag": _plotly_etag()}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(_plotly_js(), media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The dashboard's script and style (only those: no paths are resolved)."""
    media_type = _FILES.get(name)
    if media_type is None:
        return Response(status_code=404)
    return Response(_read(name), media_type=media_type, headers={"Cache-Control": PAGE_CACHE})
