"""studio: one thread per session

- session_claims: which thread holds (portfolio, session date, phase). Studio and the SDK give
  every thread a random id, so the thread id alone no longer names the session; the unique
  claim keeps a second thread of a session from trading it again. Existing runs are claimed
  by the first run of each session.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 13:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'session_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('portfolio_id', sa.Integer(), nullable=False),
        sa.Column('session_date', sa.Date(), nullable=False),
        sa.Column('phase', sa.String(length=32), nullable=False),
        sa.Column('thread_id', sa.String(length=128), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['portfolio_id'],
            ['portfolios.id'],
            name=op.f('fk_session_claims_portfolio_id_portfolios'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_session_claims')),
        sa.UniqueConstraint(
            'portfolio_id',
            'session_date',
            'phase',
            name=op.f('uq_session_claims_portfolio_id_session_date_phase'),
        ),
    )
    op.execute(
        """
        INSERT INTO session_claims (portfolio_id, session_date, phase, thread_id, claimed_at)
        SELECT r.portfolio_id, r.session_date, r.phase, r.thread_id, r.started_at
        FROM runs r
        WHERE r.portfolio_id IS NOT NULL AND r.id IN (
            SELECT min(id) FROM runs WHERE portfolio_id IS NOT NULL
            GROUP BY portfolio_id, session_date, phase
        )
        """
    )


def downgrade() -> None:
    op.drop_table('session_claims')
