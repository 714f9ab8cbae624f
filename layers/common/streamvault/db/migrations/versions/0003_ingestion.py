"""Ingestion: raw sales and tips, and the log of follows and unfollows behind the rollups.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('revenue_events',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('track_id', sa.BigInteger(), nullable=True),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('amount_attofil', sa.Numeric(precision=78, scale=0), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('purchase', 'tip')", name=op.f('ck_revenue_events_kind_known')),
    sa.CheckConstraint('amount_attofil > 0', name=op.f('ck_revenue_events_amount_positive')),
    sa.CheckConstraint("kind = 'tip' OR track_id IS NOT NULL", name=op.f('ck_revenue_events_purchase_has_track')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_revenue_events_creator_id_creators')),
    sa.ForeignKeyConstraint(['event_id'], ['ingested_events.event_id'],
                            name=op.f('fk_revenue_events_event_id_ingested_events')),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_revenue_events_track_id_tracks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_revenue_events_user_id_users')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_revenue_events'))
    )
    op.create_index('ix_revenue_events_creator_id_occurred_at', 'revenue_events', ['creator_id', 'occurred_at'],
                    unique=False)
    op.create_index('ix_revenue_events_user_id', 'revenue_events', ['user_id'], unique=False,
                    postgresql_where=sa.text('user_id IS NOT NULL'))
    op.create_table('follow_events',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('followed', sa.Boolean(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_follow_events_creator_id_creators')),
    sa.ForeignKeyConstraint(['event_id'], ['ingested_events.event_id'],
                            name=op.f('fk_follow_events_event_id_ingested_events')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follow_events_user_id_users')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_follow_events'))
    )
    op.create_index('ix_follow_events_creator_id_occurred_at', 'follow_events', ['creator_id', 'occurred_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_follow_events_creator_id_occurred_at', table_name='follow_events')
    op.drop_table('follow_events')
    op.drop_index('ix_revenue_events_user_id', table_name='revenue_events',
                  postgresql_where=sa.text('user_id IS NOT NULL'))
    op.drop_index('ix_revenue_events_creator_id_occurred_at', table_name='revenue_events')
    op.drop_table('revenue_events')
