"""Listing markets kept in the database, and PER/PBR from stored per-share figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from agents.fundamental import valuation_from_ratios
from agents.state import Valuation
from db.engine import transaction
from db.instruments import InstrumentRepository
from tools.kis.models import FinancialRatioRow


def test_listing_markets_are_trusted_only_within_the_refresh_age(
    sessions: sessionmaker[Session],
) -> None:
    old, new = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    with transaction(sessions) as session:
        InstrumentRepository(session).save({"005930": "KOSPI", "069500": "ETF"}, old)
    with transaction(sessions) as session:
        InstrumentRepository(session).save({"069500": "ETF", "247540": "KOSDAQ"}, new)
    with sessions() as session:
        repo = InstrumentRepository(session)
        recent = repo.fetched_since(["005930", "069500", "247540", "000660"], new - timedelta(1))
        every = repo.fetched_since(["005930", "069500"], old)
    assert recent == {"069500": "ETF", "247540": "KOSDAQ"}
    assert every == {"005930": "KOSPI", "069500": "ETF"}


def _ratios(eps: str | None, bps: str | None) -> FinancialRatioRow:
    return FinancialRatioRow.model_validate({"stac_yymm": "202512", "eps": eps, "bps": bps})


def test_per_and_pbr_come_from_the_price_and_stored_per_share_figures() -> None:
    assert valuation_from_ratios(70_000, _ratios("5000", "50000")) == Valuation(
        per=Decimal("14.00"), pbr=Decimal("1.40")
    )
    # A loss leaves PER unknown instead of negative; no figures at all: the caller must ask.
    assert valuation_from_ratios(70_000, _ratios("-120", "50000")) == Valuation(
        per=None, pbr=Decimal("1.40")
    )
    assert valuation_from_ratios(70_000, _ratios(None, None)) is None
    assert valuation_from_ratios(None, _ratios("5000", "50000")) is None
    assert valuation_from_ratios(70_000, None) is None
