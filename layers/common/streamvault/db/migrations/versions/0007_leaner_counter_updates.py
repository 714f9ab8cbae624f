"""Leaner counter updates: every ingest batch updates the counters of the tracks and creators
it touches and their daily rollup rows, so what each such update writes matters.

- creators: the index on metrics_changed_at goes (no query reads it); the coin address and the
  wallet's blind index are unique through partial indexes over the rows that have one, so the
  many creators without either write no entry there (a creator's counter update is never HOT).
  They hold only the creators that have a coin or a wallet, so building them under the table
  lock (writers wait meanwhile) takes milliseconds: not worth CONCURRENTLY outside a transaction;
- tracks and creator_daily_stats: fillfactor 80, room on each page for HOT updates (their
  counters are in no index). It applies to pages written from now on.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL_UNIQUE = ("wallet_blind_index", "coin_address")
FILLED = ("tracks", "creator_daily_stats")


def upgrade() -> None:
    op.drop_index('ix_creators_metrics_changed_at', table_name='creators')
    for column in PARTIAL_UNIQUE:
        name = f'uq_creators_{column}'
        op.drop_constraint(name, 'creators', type_='unique')
        op.create_index(name, 'creators', [column], unique=True, postgresql_where=sa.text(f'{column} IS NOT NULL'))
    for table in FILLED:
        op.execute(f'ALTER TABLE {table} SET (fillfactor = 80)')


def downgrade() -> None:
    for table in FILLED:
        op.execute(f'ALTER TABLE {table} RESET (fillfactor)')
    for column in PARTIAL_UNIQUE:
        name = f'uq_creators_{column}'
        op.drop_index(name, table_name='creators')
        op.create_unique_constraint(name, 'creators', [column])
    op.create_index('ix_creators_metrics_changed_at', 'creators', ['metrics_changed_at'])
