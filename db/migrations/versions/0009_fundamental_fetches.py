"""fundamental_fetches: when a source was last asked for a ticker's figures, even if it had none

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'fundamental_fetches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticker', sa.String(length=12), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fundamental_fetches')),
        sa.UniqueConstraint(
            'ticker', 'source', name=op.f('uq_fundamental_fetches_ticker_source')
        ),
    )


def downgrade() -> None:
    op.drop_table('fundamental_fetches')
