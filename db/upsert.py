"""The one insert every repository uses: `INSERT ... ON CONFLICT`, on SQLite and PostgreSQL alike.

Writing the same row twice (a re-run node, a resumed process, two writers racing on one key)
leaves one row, because the database decides on the natural key, not the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import Base


def upsert(
    session: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    update: Iterable[str] = (),
) -> None:
    """Insert rows; on a conflict on `key`, update the `update` columns (or do nothing).

    Args:
        session: an open session (the caller owns the transaction).
        model: the mapped class.
        rows: column-name -> value mappings; all rows must have the same keys.
        key: the columns of the unique constraint that identifies a row.
        update: the columns to overwrite when the row exists; empty means keep the first write.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    table = model.__table__
    insert_fn: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(table).values(list(rows))
    columns = list(update)
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    session.execute(stmt)


def rowcount(result: Any) -> int:
    """The number of rows an UPDATE matched (a `CursorResult` has it; the type says Result)."""
    return int(getattr(result, "rowcount", 0))
