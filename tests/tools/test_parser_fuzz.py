"""Fuzzing the parsers of KIS, ECOS, FRED and OpenDART bodies: only typed errors come out.

Real sample bodies (copies under tests/tools/samples/) are mutated (a value replaced by arbitrary
JSON or a wire-looking string, a key or list item deleted) or replaced by arbitrary JSON, and
served to the real clients through an `httpx.MockTransport`. Each call must either return or
raise the client's typed error (`KISError`, `EconError`); a KeyError, TypeError, ValueError,
decimal.InvalidOperation or pydantic.ValidationError escaping is a bug in the parser.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from core.clock import KST, FixedClock
from core.orders import OrderType, Side
from tools.econ import DartClient, EcosClient, FredClient, RetryPolicy
from tools.econ.ecos_models import EcosCycle
from tools.econ.errors import EconError
from tools.econ.snapshot import fundamentals_snapshot, public_series
from tools.econ.snapshot_models import BASE_RATE
from tools.kis.client import KISClient
from tools.kis.config import KISConfig
from tools.kis.endpoints import Mode
from tools.kis.errors import KISError
from tools.kis.ratelimit import RateLimiter

SAMPLES = Path(__file__).parent / "samples"
RUNNER = asyncio.Runner()
"""One event loop for every example (a loop per example costs more than the parse)."""
MAX_CALLS = 40
"""More requests than this for one client call is a paging loop that never ends."""

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
WIRE = st.sampled_from(
    ["", " ", "0", "-1", "+5", "1e400", "NaN", "Infinity", "-Infinity", "1,234", "１２３",
     "9" * 40, "20231301", "00000000", "240000", "Y", "N", "abc", "0x10", "1.5", ".", "-",
     "2023-12-22 99:00:00", "[]", "{}"]
)  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        items: list[tuple[Any, Any]] = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        items = []
    for key, child in items:
        found.append((*prefix, key))
        found += _paths(child, (*prefix, key))
    return found


@st.composite
def mutated(draw: st.DrawFn, sample: Any) -> Any:
    """The sample with one to four values replaced or deleted."""
    body = copy.deepcopy(sample)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(body)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(st.one_of(WIRE, JSON))
    return body


def bodies(sample_file: str) -> st.SearchStrategy[Any]:
    """Mutations of a real sample, and now and then arbitrary JSON."""
    sample = json.loads((SAMPLES / sample_file).read_text(encoding="utf-8"))
    return st.one_of(mutated(sample), mutated(sample), mutated(sample), JSON)


class Server:
    """Answers every request with one body (the token endpoint with a valid token)."""

    def __init__(self, body: Any, token: dict[str, Any] | None = None) -> None:
        self.body = body
        self.token = token
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise AssertionError(f"more than {MAX_CALLS} requests: a paging loop")
        body = self.body
        if self.token is not None and request.url.path == "/oauth2/tokenP":
            body = self.token
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})


# --- KIS --------------------------------------------------------------------------------------

KIS_TOKEN = json.loads((SAMPLES / "kis" / "tokenP.json").read_text(encoding="utf-8"))
KIS_NOW = datetime(2023, 12, 21, 10, 0, tzinfo=KST)  # the sample token is valid until the 22nd

KisCall = Callable[[KISClient], Awaitable[object]]
KIS_CALLS: dict[str, tuple[str, KisCall]] = {
    "price": ("inquire-price.json", lambda c: c.price("000660")),
    "daily_bars": (
        "inquire-daily-itemchartprice.json",
        lambda c: c.daily_bars("000660", date(2023, 1, 1), date(2023, 12, 21)),
    ),
    "minute_bars": (
        "inquire-time-itemchartprice.json",
        lambda c: c.minute_bars("000660", time(15)),
    ),
    "balance": ("inquire-balance.json", lambda c: c.balance()),
    "daily_orders": (
        "inquire-daily-ccld.json",
        lambda c: c.daily_orders(date(2023, 12, 1), date(2023, 12, 21)),
    ),
    "buying_power": ("inquire-psbl-order.json", lambda c: c.buying_power("005930")),
    "order_cash": (
        "order-cash.json",
        lambda c: c.order_cash(Side.BUY, "005930", 1, kind=OrderType.LIMIT, price=70_000),
    ),
    "revoke_token": ("revokeP.json", lambda c: c.revoke_token()),
    "approval_key": ("approval.json", lambda c: c.approval_key()),
    "holidays": ("inquire-price.json", lambda c: c.holidays(date(2023, 12, 21))),
    "stock_info": ("inquire-price.json", lambda c: c.stock_info("005930")),
    "balance_sheet": ("inquire-balance.json", lambda c: c.balance_sheet("005930")),
    "news_titles": ("inquire-daily-ccld.json", lambda c: c.news_titles("005930")),
}


async def _no_sleep(_: float) -> None:
    return None


def _kis(server: Server, tmp: Path) -> KISClient:
    config = KISConfig(
        mode=Mode.REAL,
        app_key=SecretStr("PSfuzzappkey0000000000000000000000000"),
        app_secret=SecretStr("fuzz-secret"),
        account_no=SecretStr("73918264"),
        base_url="https://kis.test",
        token_cache_dir=None,
        retry_wait_s=0.0,
        timeout_s=2.0,
    )
    return KISClient(
        config,
        transport=httpx.MockTransport(server),
        clock=FixedClock(KIS_NOW),
        limiter=RateLimiter(10_000, sleep=_no_sleep),
        sleep=_no_sleep,
    )


@pytest.fixture(autouse=True, scope="module")
def _close_the_loop() -> Iterator[None]:
    yield
    RUNNER.close()


def _run_kis(call: KisCall, body: Any, *, token: Any = KIS_TOKEN) -> None:
    async def go() -> None:
        client = _kis(Server(body, token), Path())
        try:
            await call(client)
        except KISError:
            pass
        finally:
            await client.aclose()

    RUNNER.run(go())


@pytest.mark.parametrize("name", sorted(KIS_CALLS))
def test_kis_parsers_raise_only_kis_errors(name: str) -> None:
    sample, call = KIS_CALLS[name]

    @FUZZ
    @given(body=bodies(f"kis/{sample}"))
    def run(body: Any) -> None:
        _run_kis(call, body)

    run()


@FUZZ
@given(token=bodies("kis/tokenP.json"))
def test_kis_token_answers_raise_only_kis_errors(token: Any) -> None:
    price = json.loads((SAMPLES / "kis" / "inquire-price.json").read_text(encoding="utf-8"))
    _run_kis(KIS_CALLS["price"][1], price, token=token)


# --- ECOS, FRED, OpenDART ---------------------------------------------------------------------

NO_RETRY = RetryPolicy(attempts=1, initial_wait_s=0, max_wait_s=0)
EconCall = Callable[[httpx.MockTransport], Awaitable[object]]


async def _ecos(transport: httpx.MockTransport, key_stats: bool) -> object:
    async with EcosClient(
        SecretStr("ecos-fuzz"), transport=transport, base_url="https://ecos.test", retry=NO_RETRY
    ) as client:
        if key_stats:
            return await client.key_statistics()
        return await client.statistic_search("722Y001", EcosCycle.DAILY, "20230101", "20230131")


async def _ecos_series(transport: httpx.MockTransport) -> object:
    async with EcosClient(
        SecretStr("ecos-fuzz"), transport=transport, base_url="https://ecos.test", retry=NO_RETRY
    ) as client:
        return await public_series(client, BASE_RATE, date(2023, 1, 31))


async def _dart_snapshot(transport: httpx.MockTransport) -> object:
    async with DartClient(
        SecretStr("dart-fuzz"), transport=transport, base_url="https://dart.test", retry=NO_RETRY
    ) as client:
        return await fundamentals_snapshot(client, "00293886", date(2019, 6, 30), years_back=1)


async def _fred(transport: httpx.MockTransport, which: str) -> object:
    async with FredClient(
        SecretStr("fred-fuzz"), transport=transport, base_url="https://fred.test", retry=NO_RETRY
    ) as client:
        if which == "observations":
            return await client.series_observations("GNPCA")
        if which == "releases":
            return await client.releases_dates()
        return await client.release_dates(82)


async def _dart(transport: httpx.MockTransport, which: str) -> object:
    async with DartClient(
        SecretStr("dart-fuzz"), transport=transport, base_url="https://dart.test", retry=NO_RETRY
    ) as client:
        if which == "company":
            return await client.company("00126380")
        if which == "single":
            return await client.single_accounts("00293886", 2018)
        if which == "corp_codes":
            return await client.corp_codes()
        return await client.full_accounts("00126308", 2024)


ECON_CALLS: dict[str, tuple[str, EconCall]] = {
    "ecos_search": ("ecos_StatisticSearch.json", lambda t: _ecos(t, False)),
    "ecos_key_statistics": ("ecos_KeyStatisticList.json", lambda t: _ecos(t, True)),
    "ecos_public_series": ("ecos_StatisticSearch.json", _ecos_series),
    "fred_observations": ("fred_series_observations.json", lambda t: _fred(t, "observations")),
    "fred_releases_dates": ("fred_releases_dates.json", lambda t: _fred(t, "releases")),
    "fred_release_dates": ("fred_release_dates.json", lambda t: _fred(t, "release")),
    "dart_company": ("opendart_company.json", lambda t: _dart(t, "company")),
    "dart_single_accounts": ("opendart_fnlttSinglAcnt.json", lambda t: _dart(t, "single")),
    "dart_fundamentals_snapshot": ("opendart_fnlttSinglAcnt.json", _dart_snapshot),
    "dart_full_accounts": ("opendart_fnlttSinglAcntAll.json", lambda t: _dart(t, "full")),
}


def _run_econ(call: EconCall, body: Any) -> None:
    async def go() -> None:
        with contextlib.suppress(EconError):
            await call(httpx.MockTransport(Server(body)))

    RUNNER.run(go())


@pytest.mark.parametrize("name", sorted(ECON_CALLS))
def test_econ_parsers_raise_only_econ_errors(name: str) -> None:
    sample, call = ECON_CALLS[name]

    @FUZZ
    @given(body=bodies(f"econ/{sample}"))
    def run(body: Any) -> None:
        _run_econ(call, body)

    run()


@FUZZ
@given(
    xml=st.one_of(
        st.text(max_size=200).map(str.encode),
        st.builds(
            lambda head, cut, tail: head + cut + tail,
            st.just((SAMPLES / "econ" / "opendart_corpCode_CORPCODE.xml").read_bytes()[:200]),
            st.text(max_size=20).map(str.encode),
            st.just((SAMPLES / "econ" / "opendart_corpCode_CORPCODE.xml").read_bytes()[200:]),
        ),
    ),
    zipped=st.booleans(),
)
def test_dart_corp_code_downloads_raise_only_econ_errors(xml: bytes, zipped: bool) -> None:
    body = xml
    if zipped:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("CORPCODE.xml", xml)
        body = buffer.getvalue()
    _run_econ(lambda t: _dart(t, "corp_codes"), body)


def test_the_committed_samples_are_copies_of_the_shared_ones(shared_dir: Path) -> None:
    for ours in sorted(SAMPLES.glob("*/*")):
        folder = "kis-samples" if ours.parent.name == "kis" else "econ-samples"
        assert ours.read_bytes() == (shared_dir / folder / ours.name).read_bytes(), ours.name


@pytest.mark.parametrize("name", ["ecos_search", "fred_observations", "fred_releases_dates"])
def test_a_short_page_is_the_last_whatever_the_count_claims(name: str) -> None:
    sample, call = ECON_CALLS[name]
    body = json.loads((SAMPLES / "econ" / sample).read_text(encoding="utf-8"))
    for counted in (body, body.get("StatisticSearch", {})):
        for key in ("count", "list_total_count"):
            if key in counted:
                counted[key] = 10**9
    server = Server(body)
    asyncio.run(call(httpx.MockTransport(server)))
    assert server.calls == 1


@pytest.mark.parametrize("name", ["daily_bars", "minute_bars"])
@pytest.mark.parametrize("rows", [True, 5, 1.5])
def test_a_chart_whose_rows_are_not_a_list_is_a_kis_error(name: str, rows: Any) -> None:
    sample, call = KIS_CALLS[name]
    body = json.loads((SAMPLES / "kis" / sample).read_text(encoding="utf-8"))
    body["output2"] = rows

    async def go() -> None:
        client = _kis(Server(body, KIS_TOKEN), Path())
        try:
            with pytest.raises(KISError, match="output2 is not a list"):
                await call(client)
        finally:
            await client.aclose()

    RUNNER.run(go())


@pytest.mark.parametrize("access_token", ["tok\x80en", "two words", "", "토큰"])
def test_a_token_that_cannot_go_into_a_header_is_a_kis_error(access_token: str) -> None:
    token = {**KIS_TOKEN, "access_token": access_token}
    price = json.loads((SAMPLES / "kis" / "inquire-price.json").read_text(encoding="utf-8"))

    async def go() -> None:
        client = _kis(Server(price, token), Path())
        try:
            with pytest.raises(KISError, match="access_token") as caught:
                await client.price("000660")
            assert access_token not in str(caught.value) or not access_token
        finally:
            await client.aclose()

    RUNNER.run(go())


def test_an_ecos_period_too_late_for_the_calendar_is_an_econ_error() -> None:
    body = json.loads((SAMPLES / "econ" / "ecos_StatisticSearch.json").read_text(encoding="utf-8"))
    body["StatisticSearch"]["row"][0]["TIME"] = "99991231"
    with pytest.raises(EconError, match="99991231"):
        asyncio.run(_ecos_series(httpx.MockTransport(Server(body))))


@pytest.mark.parametrize("expires_in", ["9" * 40, "-5"])
def test_a_token_lifetime_out_of_range_is_a_kis_error(expires_in: str) -> None:
    token = {**KIS_TOKEN, "expires_in": expires_in}
    price = json.loads((SAMPLES / "kis" / "inquire-price.json").read_text(encoding="utf-8"))

    async def go() -> None:
        client = _kis(Server(price, token), Path())
        try:
            with pytest.raises(KISError, match="expires_in"):
                await client.price("000660")
        finally:
            await client.aclose()

    asyncio.run(go())


@pytest.mark.parametrize("rcept_no", ["abc", "2019133100", ""])
def test_a_dart_receipt_number_without_a_date_is_an_econ_error(rcept_no: str) -> None:
    body = json.loads(
        (SAMPLES / "econ" / "opendart_fnlttSinglAcnt.json").read_text(encoding="utf-8")
    )
    body["list"][0]["rcept_no"] = rcept_no
    with pytest.raises(EconError, match="DartAccount"):
        asyncio.run(_dart_snapshot(httpx.MockTransport(Server(body))))
