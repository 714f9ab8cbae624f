"""Initial schema: every table of the seed, plus the event ledger, sync state and audit log.

Money columns are NUMERIC(78, 0) attoFIL (uint256 range). ``plays`` is range-partitioned by
month; ``streamvault_ensure_play_partitions`` creates the months ahead (run it daily) and moves
any row parked in the DEFAULT partition into its month once that month exists.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Creates the monthly partitions of plays from `months_back` months before `anchor` to
# `months_ahead` months after it (UTC months). Rows that landed in the DEFAULT partition for a
# month being created are moved into it under a lock that holds inserts to DEFAULT meanwhile,
# so none is lost and ATTACH finds no overlapping row. Returns how many partitions it created.
# The engagement score, set-based (streamvault.domain.engagement is the reference; a test holds
# them equal). Dividends carry 30 decimals so half-up rounding to cents matches the exact value.
ENGAGEMENT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION streamvault_engagement_score(
    plays bigint, followers bigint, likes bigint, comments bigint, tracks_90d bigint
) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT round(
        CASE WHEN plays <= 0 THEN 0
             WHEN followers <= 0 THEN 40
             ELSE least(plays::numeric(60, 30) / followers / 10, 40) END
      + CASE WHEN plays <= 0 THEN 0
             ELSE least((likes + 2 * comments)::numeric(60, 30) * 100 / plays, 30) END
      + least(tracks_90d::numeric(60, 30) * 10 / 3, 30),
      2)
$fn$;
"""

PARTITION_FUNCTION = r"""
CREATE OR REPLACE FUNCTION streamvault_ensure_play_partitions(
    months_back integer DEFAULT 1, months_ahead integer DEFAULT 3, anchor timestamptz DEFAULT now()
) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    first_month timestamp := date_trunc('month', anchor AT TIME ZONE 'UTC') - make_interval(months => months_back);
    lo timestamptz;
    hi timestamptz;
    part text;
    created integer := 0;
BEGIN
    IF months_back < 0 OR months_ahead < 0 THEN
        RAISE EXCEPTION 'months_back and months_ahead must be >= 0';
    END IF;
    FOR i IN 0 .. months_back + months_ahead LOOP
        lo := (first_month + make_interval(months => i)) AT TIME ZONE 'UTC';
        hi := (first_month + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
        part := 'plays_' || to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM');
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        LOCK TABLE plays_default IN EXCLUSIVE MODE;
        EXECUTE format('CREATE TABLE %I (LIKE plays INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        EXECUTE format(
            'WITH moved AS (DELETE FROM plays_default WHERE played_at >= %L AND played_at < %L RETURNING *) '
            'INSERT INTO %I SELECT * FROM moved', lo, hi, part);
        EXECUTE format('ALTER TABLE plays ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$fn$;
"""


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity_type', 'entity_id', 'created_at'], unique=False)
    op.create_table('daily_stats',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('plays', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('listen_ms', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('likes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('comments', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('follows', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('new_users', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('revenue_attofil', sa.Numeric(precision=78, scale=0), server_default='0', nullable=False),
    sa.CheckConstraint('comments >= 0', name=op.f('ck_daily_stats_comments_nonnegative')),
    sa.CheckConstraint('follows >= 0', name=op.f('ck_daily_stats_follows_nonnegative')),
    sa.CheckConstraint('likes >= 0', name=op.f('ck_daily_stats_likes_nonnegative')),
    sa.CheckConstraint('listen_ms >= 0', name=op.f('ck_daily_stats_listen_ms_nonnegative')),
    sa.CheckConstraint('new_users >= 0', name=op.f('ck_daily_stats_new_users_nonnegative')),
    sa.CheckConstraint('plays >= 0', name=op.f('ck_daily_stats_plays_nonnegative')),
    sa.CheckConstraint('revenue_attofil >= 0', name=op.f('ck_daily_stats_revenue_attofil_nonnegative')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_daily_stats'))
    )
    op.create_table('ingested_events',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('event_type', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("event_type IN ('play', 'like', 'unlike', 'comment', 'comment_delete', 'follow', 'unfollow', 'purchase', 'tip')", name=op.f('ck_ingested_events_event_type_known')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_ingested_events')),
    sa.UniqueConstraint('event_id', 'occurred_at', name=op.f('uq_ingested_events_event_id_occurred_at'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('display_name', sa.String(length=128), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(username) BETWEEN 1 AND 64', name=op.f('ck_users_username_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index('uq_users_username_live', 'users', [sa.literal_column('lower(username)')], unique=True, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('creators',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('wallet_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('wallet_blind_index', sa.LargeBinary(), nullable=True),
    sa.Column('verified', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('follower_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('play_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('like_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('comment_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('track_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('metrics_changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('market_cap_attofil', sa.Numeric(precision=78, scale=0), nullable=True),
    sa.Column('coin_address', sa.String(length=42), nullable=True),
    sa.Column('revenue_sharing_enabled', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('comment_count >= 0', name=op.f('ck_creators_comment_count_nonnegative')),
    sa.CheckConstraint('follower_count >= 0', name=op.f('ck_creators_follower_count_nonnegative')),
    sa.CheckConstraint('like_count >= 0', name=op.f('ck_creators_like_count_nonnegative')),
    sa.CheckConstraint('market_cap_attofil IS NULL OR market_cap_attofil >= 0', name=op.f('ck_creators_market_cap_nonnegative')),
    sa.CheckConstraint('play_count >= 0', name=op.f('ck_creators_play_count_nonnegative')),
    sa.CheckConstraint('track_count >= 0', name=op.f('ck_creators_track_count_nonnegative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_creators_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creators')),
    sa.UniqueConstraint('coin_address', name=op.f('uq_creators_coin_address')),
    sa.UniqueConstraint('user_id', name=op.f('uq_creators_user_id')),
    sa.UniqueConstraint('wallet_blind_index', name=op.f('uq_creators_wallet_blind_index'))
    )
    op.create_index('ix_creators_follower_count_live', 'creators', [sa.literal_column('follower_count DESC'), 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_creators_metrics_changed_at', 'creators', ['metrics_changed_at'], unique=False)
    op.create_index('ix_creators_play_count_live', 'creators', [sa.literal_column('play_count DESC'), 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('playlists',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_public', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_playlists_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playlists'))
    )
    op.create_index(op.f('ix_playlists_owner_id'), 'playlists', ['owner_id'], unique=False)
    op.create_table('creator_daily_stats',
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('plays', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('listen_ms', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('likes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('comments', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('follows', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('unfollows', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('revenue_attofil', sa.Numeric(precision=78, scale=0), server_default='0', nullable=False),
    sa.CheckConstraint('comments >= 0', name=op.f('ck_creator_daily_stats_comments_nonnegative')),
    sa.CheckConstraint('follows >= 0', name=op.f('ck_creator_daily_stats_follows_nonnegative')),
    sa.CheckConstraint('likes >= 0', name=op.f('ck_creator_daily_stats_likes_nonnegative')),
    sa.CheckConstraint('listen_ms >= 0', name=op.f('ck_creator_daily_stats_listen_ms_nonnegative')),
    sa.CheckConstraint('plays >= 0', name=op.f('ck_creator_daily_stats_plays_nonnegative')),
    sa.CheckConstraint('revenue_attofil >= 0', name=op.f('ck_creator_daily_stats_revenue_attofil_nonnegative')),
    sa.CheckConstraint('unfollows >= 0', name=op.f('ck_creator_daily_stats_unfollows_nonnegative')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_creator_daily_stats_creator_id_creators')),
    sa.PrimaryKeyConstraint('creator_id', 'day', name=op.f('pk_creator_daily_stats'))
    )
    op.create_table('creator_milestones',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('milestone_type', sa.String(length=16), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=78, scale=0), nullable=False),
    sa.Column('value_reached', sa.Numeric(precision=78, scale=0), nullable=False),
    sa.Column('reached_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('action_tx_hash', sa.String(length=66), nullable=True),
    sa.CheckConstraint("milestone_type IN ('PLAYS', 'FOLLOWERS', 'REVENUE')", name=op.f('ck_creator_milestones_milestone_type_known')),
    sa.CheckConstraint('threshold > 0', name=op.f('ck_creator_milestones_threshold_positive')),
    sa.CheckConstraint('value_reached >= threshold', name=op.f('ck_creator_milestones_value_reaches_threshold')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_creator_milestones_creator_id_creators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creator_milestones')),
    sa.UniqueConstraint('creator_id', 'milestone_type', 'threshold', name=op.f('uq_creator_milestones_creator_id_milestone_type_threshold'))
    )
    op.create_table('creator_sync_state',
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('epoch', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('plays', sa.BigInteger(), nullable=False),
    sa.Column('followers', sa.BigInteger(), nullable=False),
    sa.Column('engagement_bps', sa.Integer(), nullable=False),
    sa.Column('monthly_revenue_attofil', sa.Numeric(precision=78, scale=0), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.CheckConstraint('epoch >= 0', name=op.f('ck_creator_sync_state_epoch_nonnegative')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_creator_sync_state_creator_id_creators')),
    sa.PrimaryKeyConstraint('creator_id', name=op.f('pk_creator_sync_state'))
    )
    op.create_table('follows',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_follows_creator_id_creators')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follows_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'creator_id', name=op.f('pk_follows'))
    )
    op.create_index(op.f('ix_follows_creator_id'), 'follows', ['creator_id'], unique=False)
    op.create_table('oracle_sync_logs',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('operation', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=True),
    sa.Column('creator_count', sa.Integer(), server_default='1', nullable=False),
    sa.Column('batch_id', sa.UUID(), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.Column('block_number', sa.BigInteger(), nullable=True),
    sa.Column('gas_used', sa.BigInteger(), nullable=True),
    sa.Column('attempt', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('error_class', sa.String(length=32), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("operation IN ('UPDATE_METRICS', 'CREATE_COIN', 'ENABLE_REVENUE_SHARE', 'DISTRIBUTE_REVENUE')", name=op.f('ck_oracle_sync_logs_operation_known')),
    sa.CheckConstraint("status IN ('PENDING', 'SUCCESS', 'FAILED', 'RETRYING')", name=op.f('ck_oracle_sync_logs_status_known')),
    sa.CheckConstraint('attempt >= 1', name=op.f('ck_oracle_sync_logs_attempt_positive')),
    sa.CheckConstraint('duration_ms IS NULL OR duration_ms >= 0', name=op.f('ck_oracle_sync_logs_duration_nonnegative')),
    sa.CheckConstraint('gas_used IS NULL OR gas_used >= 0', name=op.f('ck_oracle_sync_logs_gas_nonnegative')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_oracle_sync_logs_creator_id_creators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oracle_sync_logs'))
    )
    op.create_index('ix_oracle_sync_logs_created_at', 'oracle_sync_logs', ['created_at'], unique=False)
    op.create_index('ix_oracle_sync_logs_creator_id_created_at', 'oracle_sync_logs', ['creator_id', 'created_at'], unique=False)
    op.create_index('ix_oracle_sync_logs_status_created_at', 'oracle_sync_logs', ['status', 'created_at'], unique=False)
    op.create_table('revenue_distributions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('revenue_attofil', sa.Numeric(precision=78, scale=0), nullable=False),
    sa.Column('holders_share_attofil', sa.Numeric(precision=78, scale=0), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='PENDING', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("quarter ~ '^[0-9]{4}Q[1-4]$'", name=op.f('ck_revenue_distributions_quarter_format')),
    sa.CheckConstraint("status IN ('PENDING', 'SENT', 'CONFIRMED', 'FAILED')", name=op.f('ck_revenue_distributions_status_known')),
    sa.CheckConstraint('holders_share_attofil >= 0 AND holders_share_attofil <= revenue_attofil', name=op.f('ck_revenue_distributions_share_within_revenue')),
    sa.CheckConstraint('revenue_attofil >= 0', name=op.f('ck_revenue_distributions_revenue_nonnegative')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_revenue_distributions_creator_id_creators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revenue_distributions')),
    sa.UniqueConstraint('creator_id', 'quarter', name=op.f('uq_revenue_distributions_creator_id_quarter'))
    )
    op.create_table('tracks',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('genre', sa.String(length=64), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('price_attofil', sa.Numeric(precision=78, scale=0), server_default='0', nullable=False),
    sa.Column('play_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('like_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('comment_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('comment_count >= 0', name=op.f('ck_tracks_comment_count_nonnegative')),
    sa.CheckConstraint('duration_ms > 0', name=op.f('ck_tracks_duration_positive')),
    sa.CheckConstraint('like_count >= 0', name=op.f('ck_tracks_like_count_nonnegative')),
    sa.CheckConstraint('play_count >= 0', name=op.f('ck_tracks_play_count_nonnegative')),
    sa.CheckConstraint('price_attofil >= 0', name=op.f('ck_tracks_price_nonnegative')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_tracks_creator_id_creators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracks'))
    )
    op.create_index('ix_tracks_creator_id_released_at', 'tracks', ['creator_id', 'released_at'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('comments',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('track_id', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(body) BETWEEN 1 AND 5000', name=op.f('ck_comments_body_length')),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_comments_track_id_tracks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_comments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments')),
    sa.UniqueConstraint('event_id', name=op.f('uq_comments_event_id'))
    )
    op.create_index('ix_comments_track_id_created_at', 'comments', ['track_id', 'created_at'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index(op.f('ix_comments_user_id'), 'comments', ['user_id'], unique=False)
    op.create_table('likes',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('track_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_likes_track_id_tracks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_likes_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'track_id', name=op.f('pk_likes'))
    )
    op.create_index(op.f('ix_likes_track_id'), 'likes', ['track_id'], unique=False)
    op.create_table('playlist_entries',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('playlist_id', sa.BigInteger(), nullable=False),
    sa.Column('track_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('position >= 0', name=op.f('ck_playlist_entries_position_nonnegative')),
    sa.ForeignKeyConstraint(['playlist_id'], ['playlists.id'], name=op.f('fk_playlist_entries_playlist_id_playlists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_playlist_entries_track_id_tracks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playlist_entries')),
    sa.UniqueConstraint('playlist_id', 'position', deferrable=True, initially='DEFERRED', name=op.f('uq_playlist_entries_playlist_id_position'))
    )
    op.create_index(op.f('ix_playlist_entries_track_id'), 'playlist_entries', ['track_id'], unique=False)
    op.create_table('plays',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('played_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('track_id', sa.BigInteger(), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), server_default='stream', nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('ip_prefix', postgresql.INET(), nullable=True),
    sa.Column('ua_hash', sa.LargeBinary(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source IN ('stream', 'playlist', 'radio', 'search', 'profile', 'embed', 'other')", name=op.f('ck_plays_source_known')),
    sa.CheckConstraint('duration_ms >= 0', name=op.f('ck_plays_duration_nonnegative')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_plays_creator_id_creators')),
    sa.ForeignKeyConstraint(['event_id', 'played_at'], ['ingested_events.event_id', 'ingested_events.occurred_at'], name=op.f('fk_plays_event_id_ingested_events')),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_plays_track_id_tracks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_plays_user_id_users')),
    sa.PrimaryKeyConstraint('event_id', 'played_at', name=op.f('pk_plays')),
    postgresql_partition_by='RANGE (played_at)'
    )
    op.create_index('ix_plays_creator_id_played_at', 'plays', ['creator_id', 'played_at'], unique=False)
    op.create_index('ix_plays_track_id_played_at', 'plays', ['track_id', 'played_at'], unique=False)
    op.create_index('ix_plays_user_id_played_at', 'plays', ['user_id', 'played_at'], unique=False, postgresql_where=sa.text('user_id IS NOT NULL'))
    op.execute(ENGAGEMENT_FUNCTION)
    op.execute(PARTITION_FUNCTION)
    op.execute("CREATE TABLE plays_default PARTITION OF plays DEFAULT")
    op.execute("SELECT streamvault_ensure_play_partitions(12, 3)")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS streamvault_engagement_score(bigint, bigint, bigint, bigint, bigint)")
    op.execute("DROP FUNCTION IF EXISTS streamvault_ensure_play_partitions(integer, integer, timestamptz)")
    op.drop_index('ix_plays_user_id_played_at', table_name='plays', postgresql_where=sa.text('user_id IS NOT NULL'))
    op.drop_index('ix_plays_track_id_played_at', table_name='plays')
    op.drop_index('ix_plays_creator_id_played_at', table_name='plays')
    op.drop_table('plays')
    op.drop_index(op.f('ix_playlist_entries_track_id'), table_name='playlist_entries')
    op.drop_table('playlist_entries')
    op.drop_index(op.f('ix_likes_track_id'), table_name='likes')
    op.drop_table('likes')
    op.drop_index(op.f('ix_comments_user_id'), table_name='comments')
    op.drop_index('ix_comments_track_id_created_at', table_name='comments', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('comments')
    op.drop_index('ix_tracks_creator_id_released_at', table_name='tracks', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('tracks')
    op.drop_table('revenue_distributions')
    op.drop_index('ix_oracle_sync_logs_status_created_at', table_name='oracle_sync_logs')
    op.drop_index('ix_oracle_sync_logs_creator_id_created_at', table_name='oracle_sync_logs')
    op.drop_index('ix_oracle_sync_logs_created_at', table_name='oracle_sync_logs')
    op.drop_table('oracle_sync_logs')
    op.drop_index(op.f('ix_follows_creator_id'), table_name='follows')
    op.drop_table('follows')
    op.drop_table('creator_sync_state')
    op.drop_table('creator_milestones')
    op.drop_table('creator_daily_stats')
    op.drop_index(op.f('ix_playlists_owner_id'), table_name='playlists')
    op.drop_table('playlists')
    op.drop_index('ix_creators_play_count_live', table_name='creators', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_creators_metrics_changed_at', table_name='creators')
    op.drop_index('ix_creators_follower_count_live', table_name='creators', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('creators')
    op.drop_index('uq_users_username_live', table_name='users', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('users')
    op.drop_table('ingested_events')
    op.drop_table('daily_stats')
    op.drop_index('ix_audit_log_entity', table_name='audit_log')
    op.drop_table('audit_log')
