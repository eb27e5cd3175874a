"""instruments: each ticker's listing market, asked of KIS once instead of every session

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'instruments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticker', sa.String(length=12), nullable=False),
        sa.Column('market', sa.String(length=8), nullable=False),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instruments')),
        sa.UniqueConstraint('ticker', name=op.f('uq_instruments_ticker')),
    )


def downgrade() -> None:
    op.drop_table('instruments')
