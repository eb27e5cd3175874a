"""API keys never reach logs or exception text, whatever happens to the request."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from tests.tools.econ.conftest import NO_WAIT, make_clients
from tools.econ import DartClient, EconError, EconUnavailableError, EcosClient, FredClient
from tools.econ.ecos_models import EcosCycle
from tools.econ.redaction import redact
from tools.econ.simulator import EconSimulator, SimulatorKeys, SimulatorState

pytestmark = pytest.mark.anyio

ECOS_KEY = "SECRETECOSKEY0000042"
FRED_KEY = "5ec2e7f2ed5ec2e7f2ed5ec2e7f2ed42"
DART_KEY = "5ecre7da2t5ecre7da2t5ecre7da2t5ecre7da2t"
ALL_KEYS = (ECOS_KEY, FRED_KEY, DART_KEY)


def _texts(error: BaseException) -> list[str]:
    texts: list[str] = []
    current: BaseException | None = error
    while current is not None:
        texts += [str(current), repr(current), *(str(a) for a in current.args)]
        current = current.__cause__ or current.__context__
    return texts


def _assert_clean(texts: list[str]) -> None:
    for text in texts:
        for key in ALL_KEYS:
            assert key not in text


async def test_keys_stay_out_of_logs_and_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good = EconSimulator(SimulatorState(SimulatorKeys(ecos=ECOS_KEY, fred=FRED_KEY, dart=DART_KEY)))
    ok = make_clients(good, ecos_key=ECOS_KEY, fred_key=FRED_KEY, dart_key=DART_KEY)
    assert await ok.ecos.statistic_search("722Y001", EcosCycle.MONTHLY, "202401", "202402")
    assert await ok.fred.release_dates(10)
    assert await ok.dart.corp_codes()

    wrong = make_clients(EconSimulator(), ecos_key=ECOS_KEY, fred_key=FRED_KEY, dart_key=DART_KEY)
    failures = [
        wrong.ecos.key_statistics(),
        wrong.fred.series_observations("CPIAUCSL"),
        wrong.dart.company("00126380"),
        wrong.dart.corp_codes(),
    ]
    texts: list[str] = []
    for failure in failures:
        with pytest.raises(EconError) as info:
            await failure
        texts += _texts(info.value)
    _assert_clean(texts)
    _assert_clean([caplog.text])
    assert "***" in caplog.text, "the request log is kept, with the key masked"


async def test_network_failure_text_has_no_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    clients = [
        EcosClient(SecretStr(ECOS_KEY), base_url=dead, retry=NO_WAIT),
        FredClient(SecretStr(FRED_KEY), base_url=dead, retry=NO_WAIT),
        DartClient(SecretStr(DART_KEY), base_url=dead, retry=NO_WAIT),
    ]
    calls = [clients[0].key_statistics(), clients[1].release_dates(1), clients[2].corp_codes()]
    for call in calls:
        with pytest.raises(EconUnavailableError) as info:
            await call
        _assert_clean(_texts(info.value))
    for client in clients:
        await client.aclose()
    _assert_clean([caplog.text])


def test_redact_masks_raw_and_url_encoded_forms() -> None:
    assert redact("a/k+y=/b?x=k%2By%3D", "k+y=") == "a/***/b?x=***"
    assert redact("short", "ab") == "short"
