"""runs remember their venue (demo, paper, kis-virtual, kis-real)

A session resumed in another process (`trader approve`) must continue against the market and
broker it started on; the venue column says which.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('venue', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('venue')
