"""Milestones, creator coins and revenue sharing: the coin's creation transaction, and what a
quarterly distribution needs (its snapshot block and the deposit's managed transaction).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('creators', sa.Column('coin_tx_hash', sa.String(length=66), nullable=True))
    op.add_column('revenue_distributions', sa.Column('snapshot_block', sa.BigInteger(), nullable=True))
    op.add_column('revenue_distributions', sa.Column('transaction_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_revenue_distributions_transaction_id_chain_transactions'),
                          'revenue_distributions', 'chain_transactions', ['transaction_id'], ['id'])
    op.create_unique_constraint(op.f('uq_revenue_distributions_transaction_id'), 'revenue_distributions',
                                ['transaction_id'])


def downgrade() -> None:
    op.drop_constraint(op.f('uq_revenue_distributions_transaction_id'), 'revenue_distributions', type_='unique')
    op.drop_constraint(op.f('fk_revenue_distributions_transaction_id_chain_transactions'), 'revenue_distributions',
                       type_='foreignkey')
    op.drop_column('revenue_distributions', 'transaction_id')
    op.drop_column('revenue_distributions', 'snapshot_block')
    op.drop_column('creators', 'coin_tx_hash')
