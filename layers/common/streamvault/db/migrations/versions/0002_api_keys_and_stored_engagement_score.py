"""API keys (hashes only), and a stored engagement score on creators for sorted lists.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('key_hash', sa.LargeBinary(), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('rate_limit_per_s', sa.Integer(), nullable=True),
    sa.Column('burst', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'ingest', 'admin']::varchar[]", name=op.f('ck_api_keys_scopes_known')),
    sa.CheckConstraint('burst IS NULL OR burst > 0', name=op.f('ck_api_keys_burst_positive')),
    sa.CheckConstraint('octet_length(key_hash) = 32', name=op.f('ck_api_keys_key_hash_sha256')),
    sa.CheckConstraint('rate_limit_per_s IS NULL OR rate_limit_per_s > 0', name=op.f('ck_api_keys_rate_limit_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.add_column('creators', sa.Column('engagement_score', sa.Numeric(precision=5, scale=2), server_default='0', nullable=False))
    op.create_check_constraint(op.f('ck_creators_engagement_score_range'), 'creators', 'engagement_score BETWEEN 0 AND 100')
    op.create_index('ix_creators_created_at_live', 'creators', [sa.literal_column('created_at DESC'), 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_creators_engagement_score_live', 'creators', [sa.literal_column('engagement_score DESC'), 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_creators_engagement_score_live', table_name='creators', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_creators_created_at_live', table_name='creators', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_constraint(op.f('ck_creators_engagement_score_range'), 'creators')
    op.drop_column('creators', 'engagement_score')
    op.drop_table('api_keys')
