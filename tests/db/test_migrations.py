import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from db import migrate
from db.engine import create_db_engine
from db.models import Base

EXPECTED_TABLES = {
    "portfolios",
    "positions",
    "orders",
    "fills",
    "market_data",
    "signals",
    "runs",
    "approvals",
    "econ_events",
}


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _diff(url: str) -> list[object]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trips(db_url: str) -> None:
    migrate.upgrade(db_url)
    assert _tables(db_url) >= EXPECTED_TABLES
    assert migrate.status(db_url).up_to_date

    migrate.downgrade(db_url, "base")
    assert _tables(db_url) - {"alembic_version"} == set()
    assert migrate.status(db_url).current is None

    migrate.upgrade(db_url)
    assert _tables(db_url) >= EXPECTED_TABLES
    assert migrate.status(db_url).up_to_date


def test_models_and_migrations_agree(db_url: str) -> None:
    migrate.upgrade(db_url)
    assert _diff(db_url) == []
