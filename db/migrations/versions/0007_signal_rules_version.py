"""evals: the rules version on every signal

- signals.rules_version: the version of the rules reasoner that judged (for a combined signal,
  of the combination rule), next to the prompt version, so an evaluation or a change of
  decisions can be traced to a change of rules. Existing rows keep NULL (unknown).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 19:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signals') as batch:
        batch.add_column(sa.Column('rules_version', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signals') as batch:
        batch.drop_column('rules_version')
