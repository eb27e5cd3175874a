"""order safety: where a run trades, one executor per run, orders handed to a person

- runs.venue_server and runs.account_fingerprint: a resume on another server or account is
  refused (the venue name alone let a simulator session be approved against the real server).
- runs.executor_holder and runs.executor_lease_until: a lease taken by compare-and-set, so two
  processes resuming one session cannot both execute it.
- orders.status gains `needs_review`: an order the executor could not settle, handed to a person.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = (
    'proposed', 'approved', 'submitting', 'submitted', 'partially_filled', 'filled',
    'cancelled', 'rejected', 'failed', 'expired',
)
_NEW = (*_OLD, 'needs_review')


def _status(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name='order_status', native_enum=False, create_constraint=True, length=24
    )


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('venue_server', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('account_fingerprint', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('executor_holder', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('executor_lease_until', sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column(
            'status', existing_type=_status(_OLD), type_=_status(_NEW), existing_nullable=False
        )


def downgrade() -> None:
    op.execute("UPDATE orders SET status = 'failed' WHERE status = 'needs_review'")
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column(
            'status', existing_type=_status(_NEW), type_=_status(_OLD), existing_nullable=False
        )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('executor_lease_until')
        batch_op.drop_column('executor_holder')
        batch_op.drop_column('account_fingerprint')
        batch_op.drop_column('venue_server')
