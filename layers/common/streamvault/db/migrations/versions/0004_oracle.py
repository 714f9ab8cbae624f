"""Oracle: the transaction manager's tables (nonces, transactions, attempts, circuit breakers)
and the oracle's sync runs (their ids are the on-chain epochs) and per-transaction items.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTOFIL = sa.Numeric(precision=78, scale=0)


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False)


def upgrade() -> None:
    op.create_table('chain_nonces',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('next_nonce', sa.BigInteger(), nullable=False),
    _now('updated_at'),
    sa.CheckConstraint('next_nonce >= 0', name=op.f('ck_chain_nonces_next_nonce_nonnegative')),
    sa.PrimaryKeyConstraint('chain_id', 'address', name=op.f('pk_chain_nonces'))
    )
    op.create_table('chain_transactions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('from_address', sa.String(length=42), nullable=False),
    sa.Column('to_address', sa.String(length=42), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('value_attofil', ATTOFIL, server_default='0', nullable=False),
    sa.Column('gas_limit', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='unsent', nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.Column('block_number', sa.BigInteger(), nullable=True),
    sa.Column('gas_used', sa.BigInteger(), nullable=True),
    sa.Column('error_class', sa.String(length=32), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    _now('created_at'),
    _now('updated_at'),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('unsent', 'sent', 'confirmed', 'failed')", name=op.f('ck_chain_transactions_state_known')),
    sa.CheckConstraint("state NOT IN ('sent', 'confirmed') OR nonce IS NOT NULL", name=op.f('ck_chain_transactions_sent_has_nonce')),
    sa.CheckConstraint('nonce IS NULL OR nonce >= 0', name=op.f('ck_chain_transactions_nonce_nonnegative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_transactions')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_chain_transactions_idempotency_key'))
    )
    op.create_index('uq_chain_transactions_nonce', 'chain_transactions', ['chain_id', 'from_address', 'nonce'], unique=True, postgresql_where=sa.text('nonce IS NOT NULL'))
    op.create_index('ix_chain_transactions_pending', 'chain_transactions', ['chain_id', 'from_address', 'nonce'], unique=False, postgresql_where=sa.text("state IN ('unsent', 'sent')"))
    op.create_table('chain_tx_attempts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('transaction_id', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('max_fee_per_gas', ATTOFIL, nullable=False),
    sa.Column('max_priority_fee_per_gas', ATTOFIL, nullable=False),
    sa.Column('gas_limit', sa.BigInteger(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='in_progress', nullable=False),
    _now('created_at'),
    sa.Column('broadcast_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('in_progress', 'broadcast')", name=op.f('ck_chain_tx_attempts_state_known')),
    sa.CheckConstraint('max_priority_fee_per_gas <= max_fee_per_gas', name=op.f('ck_chain_tx_attempts_tip_within_max_fee')),
    sa.ForeignKeyConstraint(['transaction_id'], ['chain_transactions.id'], name=op.f('fk_chain_tx_attempts_transaction_id_chain_transactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_tx_attempts')),
    sa.UniqueConstraint('tx_hash', name=op.f('uq_chain_tx_attempts_tx_hash'))
    )
    op.create_index(op.f('ix_chain_tx_attempts_transaction_id'), 'chain_tx_attempts', ['transaction_id'], unique=False)
    op.create_table('chain_circuit_breakers',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='closed', nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    _now('updated_at'),
    sa.CheckConstraint("state IN ('closed', 'open', 'half_open')", name=op.f('ck_chain_circuit_breakers_state_known')),
    sa.CheckConstraint('consecutive_failures >= 0', name=op.f('ck_chain_circuit_breakers_failures_nonnegative')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_chain_circuit_breakers'))
    )
    op.create_table('oracle_sync_runs',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    _now('started_at'),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('creators', sa.Integer(), server_default='0', nullable=False),
    sa.Column('transactions', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('id < 4294967296', name=op.f('ck_oracle_sync_runs_id_fits_uint32')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oracle_sync_runs'))
    )
    op.create_table('oracle_sync_items',
    sa.Column('transaction_id', sa.BigInteger(), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.Column('plays', sa.BigInteger(), nullable=False),
    sa.Column('followers', sa.BigInteger(), nullable=False),
    sa.Column('engagement_bps', sa.Integer(), nullable=False),
    sa.Column('monthly_revenue_attofil', ATTOFIL, nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_oracle_sync_items_creator_id_creators')),
    sa.ForeignKeyConstraint(['transaction_id'], ['chain_transactions.id'], name=op.f('fk_oracle_sync_items_transaction_id_chain_transactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('transaction_id', 'creator_id', name=op.f('pk_oracle_sync_items'))
    )
    op.create_index(op.f('ix_oracle_sync_items_creator_id'), 'oracle_sync_items', ['creator_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_oracle_sync_items_creator_id'), table_name='oracle_sync_items')
    op.drop_table('oracle_sync_items')
    op.drop_table('oracle_sync_runs')
    op.drop_table('chain_circuit_breakers')
    op.drop_index(op.f('ix_chain_tx_attempts_transaction_id'), table_name='chain_tx_attempts')
    op.drop_table('chain_tx_attempts')
    op.drop_index('ix_chain_transactions_pending', table_name='chain_transactions', postgresql_where=sa.text("state IN ('unsent', 'sent')"))
    op.drop_index('uq_chain_transactions_nonce', table_name='chain_transactions', postgresql_where=sa.text('nonce IS NOT NULL'))
    op.drop_table('chain_transactions')
    op.drop_table('chain_nonces')
