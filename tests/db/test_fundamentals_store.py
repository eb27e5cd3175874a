"""The point-in-time store of company figures, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.repositories import FundamentalsRepository


def _row(period: str, known_on: date, roe: str, kind: str = "financial_ratio") -> dict[str, object]:
    return {
        "ticker": "005930",
        "source": "kis",
        "kind": kind,
        "period": period,
        "figures": {"roe": roe},
        "known_on": known_on,
        "known_basis": "deadline",
        "fetched_at": datetime(2024, 6, 1, tzinfo=UTC),
    }


def test_a_report_known_after_day_t_never_reaches_day_t(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        FundamentalsRepository(session).save(
            [
                _row("202309", date(2023, 11, 14), "8.1"),
                _row("202312", date(2024, 3, 30), "9.2"),
                _row("202312", date(2024, 3, 30), "0.5", kind="stability_ratio"),
            ]
        )
    with sessions() as session:
        repo = FundamentalsRepository(session)
        before = repo.known_by("005930", date(2024, 3, 29))
        on = repo.known_by("005930", date(2024, 3, 30))
        none = repo.known_by("005930", date(2023, 11, 13))
    assert [(r.kind, r.period, r.figures["roe"]) for r in before] == [
        ("financial_ratio", "202309", "8.1")
    ]
    assert sorted((r.kind, r.period) for r in on) == [
        ("financial_ratio", "202312"),
        ("stability_ratio", "202312"),
    ]
    assert none == []


def test_a_restated_report_keeps_the_day_it_first_became_known(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        FundamentalsRepository(session).save([_row("202312", date(2024, 3, 30), "9.2")])
    with transaction(sessions) as session:
        FundamentalsRepository(session).save([_row("202312", date(2024, 5, 2), "9.4")])
    with sessions() as session:
        (row,) = FundamentalsRepository(session).known_by("005930", date(2024, 4, 1))
    assert (row.figures["roe"], row.known_on) == ("9.4", date(2024, 3, 30))
