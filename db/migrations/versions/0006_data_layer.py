"""data layer: what the collector stores, and when each fact became known

- market_data.adjustment / fetched_at: the price basis of a bar (KIS's adjusted daily chart or
  raw prices) and when the collector wrote it, so a re-adjusted history can be detected;
- fundamentals: company figures per (ticker, source, kind, period) with `known_on`, the first
  day a decision may use them (the point-in-time rule);
- econ_events.period / fetched_at: the period a release describes and when it was collected.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 19:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('market_data') as batch:
        batch.add_column(
            sa.Column('adjustment', sa.String(length=16), server_default='raw', nullable=False)
        )
        batch.add_column(sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('econ_events') as batch:
        batch.add_column(sa.Column('period', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'fundamentals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticker', sa.String(length=12), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('period', sa.String(length=8), nullable=False),
        sa.Column('figures', _JSON, nullable=False),
        sa.Column('known_on', sa.Date(), nullable=False),
        sa.Column('known_basis', sa.String(length=16), nullable=False),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fundamentals')),
        sa.UniqueConstraint(
            'ticker', 'source', 'kind', 'period',
            name=op.f('uq_fundamentals_ticker_source_kind_period'),
        ),
    )
    op.create_index('ix_fundamentals_ticker_known_on', 'fundamentals', ['ticker', 'known_on'])


def downgrade() -> None:
    op.drop_index('ix_fundamentals_ticker_known_on', table_name='fundamentals')
    op.drop_table('fundamentals')
    with op.batch_alter_table('econ_events') as batch:
        batch.drop_column('fetched_at')
        batch.drop_column('period')
    with op.batch_alter_table('market_data') as batch:
        batch.drop_column('fetched_at')
        batch.drop_column('adjustment')
