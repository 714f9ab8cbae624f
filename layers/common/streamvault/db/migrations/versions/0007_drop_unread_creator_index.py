"""Drop the index on creators.metrics_changed_at: no query reads it, and every ingest batch
updates that column on each creator it touches, so the index only cost an entry per update.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_creators_metrics_changed_at', table_name='creators')


def downgrade() -> None:
    op.create_index('ix_creators_metrics_changed_at', 'creators', ['metrics_changed_at'])
