from __future__ import annotations

from datetime import date

import pytest

from tests.tools.econ.conftest import Clients, make_clients
from tools.econ import (
    EconConfigurationError,
    EconRateLimitError,
    EconRequestError,
    EconUnavailableError,
)
from tools.econ.dart_models import FsDiv, ReportCode
from tools.econ.simulator import (
    EconSimulator,
    Service,
    SimulatorKeys,
    SimulatorState,
)

pytestmark = pytest.mark.anyio

SAMSUNG = "00126380"


async def test_corp_code_zip_maps_tickers(clients: Clients) -> None:
    directory = await clients.dart.corp_codes()
    tickers = directory.ticker_map()
    assert tickers["005930"] == SAMSUNG
    assert {"000660", "035420"} <= tickers.keys()
    unlisted = [e for e in directory.entries if e.stock_code is None]
    assert [e.corp_name for e in unlisted] == ["다코", "일산약품"]
    assert directory.corp_code_for("005930") == SAMSUNG
    assert directory.corp_code_for("999999") is None
    tickers["005930"] = "changed"  # the map handed out is a copy; lookups keep the file's answer
    assert directory.corp_code_for("005930") == SAMSUNG


async def test_company_overview(clients: Clients) -> None:
    company = await clients.dart.company(SAMSUNG)
    assert company is not None
    assert (company.corp_name, company.stock_code, company.acc_mt) == ("삼성전자", "005930", "12")
    assert await clients.dart.company("99999999") is None


async def test_single_accounts_amounts_are_int_krw(clients: Clients) -> None:
    rows = await clients.dart.single_accounts(SAMSUNG, 2023)
    by_name = {r.account_nm: r for r in rows}
    revenue = by_name["매출액"]
    assert revenue.thstrm_amount == 258_935_000_000_000
    assert revenue.frmtrm_amount == 302_231_000_000_000
    assert revenue.bfefrmtrm_amount is None  # 2021 is not in the dataset
    assert revenue.receipt_date == date(2024, 3, 12)
    balance = {n: by_name[n].thstrm_amount for n in ("자산총계", "부채총계", "자본총계")}
    assert balance["자산총계"] == balance["부채총계"] + balance["자본총계"]  # type: ignore[operator]


async def test_full_accounts_and_no_data(clients: Clients) -> None:
    rows = await clients.dart.full_accounts("00164779", 2023)
    by_id = {r.account_id: r.thstrm_amount for r in rows}
    assert by_id["dart_OperatingIncomeLoss"] == -7_700_000_000_000
    assert await clients.dart.full_accounts(SAMSUNG, 2023, fs_div=FsDiv.SEPARATE) == []
    assert await clients.dart.single_accounts(SAMSUNG, 2023, ReportCode.Q1) == []


async def test_report_not_filed_yet_is_no_data(simulator: EconSimulator) -> None:
    early = make_clients(EconSimulator(SimulatorState(today=date(2024, 3, 11))))
    assert await early.dart.single_accounts(SAMSUNG, 2023) == []
    assert await early.dart.single_accounts(SAMSUNG, 2022) != []


async def test_invalid_field_is_a_request_error(clients: Clients) -> None:
    with pytest.raises(EconRequestError) as info:
        await clients.dart.company("123")
    assert info.value.code == "100"


@pytest.mark.parametrize("status", ["011", "012", "901"])
async def test_unusable_keys_are_configuration_errors(status: str) -> None:
    key = f"{status}-key-{'x' * 30}"
    state = SimulatorState(SimulatorKeys(dart_key_status={key: status}))
    client = make_clients(EconSimulator(state), dart_key=key).dart
    with pytest.raises(EconConfigurationError) as info:
        await client.company(SAMSUNG)
    assert info.value.code == status
    assert key not in str(info.value)


async def test_unregistered_key_on_corp_code_xml(simulator: EconSimulator) -> None:
    wrong = make_clients(simulator, dart_key="f" * 40)
    with pytest.raises(EconConfigurationError) as info:
        await wrong.dart.corp_codes()
    assert info.value.code == "010"


async def test_limit_and_maintenance(simulator: EconSimulator, clients: Clients) -> None:
    simulator.state.set_quota(Service.DART, 1)
    assert await clients.dart.company(SAMSUNG) is not None
    with pytest.raises(EconRateLimitError):
        await clients.dart.company(SAMSUNG)
    simulator.state.set_quota(Service.DART, None)
    simulator.state.set_outage(Service.DART, 1)
    assert await clients.dart.company(SAMSUNG) is not None  # one retry rides the outage out
    simulator.state.set_outage(Service.DART, 3)
    with pytest.raises(EconUnavailableError) as info:
        await clients.dart.corp_codes()
    assert info.value.code == "800"
