"""The form of a KRX short code (종목 단축코드) that a watchlist or `--tickers` may name."""

from __future__ import annotations

import pytest

from tools.krx.tickers import bad_tickers, is_krx_code, normalise_ticker


@pytest.mark.parametrize("code", ["005930", "069500", "0000J0", "0091P0", "ZZZ999"])
def test_six_digits_or_capital_letters_are_well_formed(code: str) -> None:
    assert is_krx_code(code)


@pytest.mark.parametrize(
    "code",
    ["ABC", "00593", "0059300", "", "005 30", "00593-", "삼성전자01", "００５９３０", "Q500001"],
)
def test_anything_else_is_not(code: str) -> None:
    assert not is_krx_code(code)


def test_normalising_trims_and_capitalises_then_bad_ones_are_named() -> None:
    assert normalise_ticker(" 0000j0 ") == "0000J0"
    assert bad_tickers(["005930", "ABC", " 0000j0", "00593"]) == ["ABC", "00593"]
