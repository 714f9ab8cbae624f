"""Declarative models: the schema's single description, mirrored by the Alembic migrations.

Conventions: surrogate ``bigint`` identity keys; ``timestamptz`` in UTC; money as integer
attoFIL (``AttoFil``); soft deletion (``deleted_at``) where history must survive; counters
kept next to the rows they count so that no request path aggregates raw ``plays``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from streamvault.db.types import AttoFil

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MILESTONE_TYPES = ("PLAYS", "FOLLOWERS", "REVENUE")
ORACLE_OPERATIONS = ("UPDATE_METRICS", "CREATE_COIN", "ENABLE_REVENUE_SHARE", "DISTRIBUTE_REVENUE")
ORACLE_STATUSES = ("PENDING", "SUCCESS", "FAILED", "RETRYING")
EVENT_TYPES = (
    "play", "like", "unlike", "comment", "comment_delete", "follow", "unfollow", "purchase", "tip",
)
PLAY_SOURCES = ("stream", "playlist", "radio", "search", "profile", "embed", "other")


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _counter() -> Any:
    return mapped_column(BigInteger, nullable=False, server_default="0")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # A username is unique among live accounts; erased accounts free theirs.
        Index("uq_users_username_live", func.lower(text("username")), unique=True,
              postgresql_where=text("deleted_at IS NULL")),
        CheckConstraint("length(username) BETWEEN 1 AND 64", name="username_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Creator(Base):
    __tablename__ = "creators"
    __table_args__ = (
        CheckConstraint("follower_count >= 0", name="follower_count_nonnegative"),
        CheckConstraint("play_count >= 0", name="play_count_nonnegative"),
        CheckConstraint("like_count >= 0", name="like_count_nonnegative"),
        CheckConstraint("comment_count >= 0", name="comment_count_nonnegative"),
        CheckConstraint("track_count >= 0", name="track_count_nonnegative"),
        CheckConstraint("market_cap_attofil IS NULL OR market_cap_attofil >= 0", name="market_cap_nonnegative"),
        Index("ix_creators_play_count_live", text("play_count DESC"), "id",
              postgresql_where=text("deleted_at IS NULL")),
        Index("ix_creators_follower_count_live", text("follower_count DESC"), "id",
              postgresql_where=text("deleted_at IS NULL")),
        Index("ix_creators_engagement_score_live", text("engagement_score DESC"), "id",
              postgresql_where=text("deleted_at IS NULL")),
        Index("ix_creators_created_at_live", text("created_at DESC"), "id",
              postgresql_where=text("deleted_at IS NULL")),
        # Unique where set, and partial: most creators have no coin (nor, until verified, a
        # wallet), and a row outside a partial index costs no entry there on its frequent
        # counter updates, which can never be HOT (the sort indexes above hold counters).
        Index("uq_creators_wallet_blind_index", "wallet_blind_index", unique=True,
              postgresql_where=text("wallet_blind_index IS NOT NULL")),
        Index("uq_creators_coin_address", "coin_address", unique=True,
              postgresql_where=text("coin_address IS NOT NULL")),
        CheckConstraint("engagement_score BETWEEN 0 AND 100", name="engagement_score_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    bio: Mapped[str | None] = mapped_column(Text)
    # The wallet is personal data: stored encrypted (envelope, KMS data key) with a keyed
    # blind index for look-ups. Both are written by the wallet service, never in clear.
    wallet_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    wallet_blind_index: Mapped[bytes | None] = mapped_column(LargeBinary)  # unique when set: see __table_args__
    verified: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    # Counters over live data, maintained by ingestion in the same transaction as the events.
    follower_count: Mapped[int] = _counter()
    play_count: Mapped[int] = _counter()
    like_count: Mapped[int] = _counter()
    comment_count: Mapped[int] = _counter()
    track_count: Mapped[int] = _counter()
    # When a counter or the revenue last moved (the oracle compares values, not this time).
    metrics_changed_at: Mapped[datetime] = _now()
    # Stored copy of the engagement score for sorting lists; refreshed set-based whenever counters
    # move and daily (its 90-day window slides). Profiles compute it live.
    engagement_score: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, server_default="0")
    market_cap_attofil: Mapped[int | None] = mapped_column(AttoFil)
    coin_address: Mapped[str | None] = mapped_column(String(42))  # unique when set: see __table_args__
    coin_tx_hash: Mapped[str | None] = mapped_column(String(66))  # the factory call that created the coin
    revenue_sharing_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Follow(Base):
    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = _now()


class Track(Base):
    __tablename__ = "tracks"
    __table_args__ = (
        CheckConstraint("duration_ms > 0", name="duration_positive"),
        CheckConstraint("price_attofil >= 0", name="price_nonnegative"),
        CheckConstraint("play_count >= 0", name="play_count_nonnegative"),
        CheckConstraint("like_count >= 0", name="like_count_nonnegative"),
        CheckConstraint("comment_count >= 0", name="comment_count_nonnegative"),
        # The engagement score counts a creator's live releases in the trailing 90 days.
        Index("ix_tracks_creator_id_released_at", "creator_id", "released_at",
              postgresql_where=text("deleted_at IS NULL")),
        # Room on each page for the new versions of ingestion's counter updates, which change
        # no indexed column: they can then be HOT (no index entry written).
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(256), nullable=False)
    genre: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    released_at: Mapped[datetime] = _now()
    price_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False, server_default="0")
    play_count: Mapped[int] = _counter()
    like_count: Mapped[int] = _counter()
    comment_count: Mapped[int] = _counter()
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Playlist(Base):
    __tablename__ = "playlists"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class PlaylistEntry(Base):
    """A track at a position; positions are unique per playlist, checked at commit so a
    reorder can shuffle them inside one transaction."""

    __tablename__ = "playlist_entries"
    __table_args__ = (
        UniqueConstraint("playlist_id", "position", deferrable=True, initially="DEFERRED"),
        CheckConstraint("position >= 0", name="position_nonnegative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    playlist_id: Mapped[int] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"), nullable=False)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    added_at: Mapped[datetime] = _now()


class IngestedEvent(Base):
    """Every client ``event_id`` ever accepted, of any type: replaying an event (a like after
    its unlike, say) finds it here and changes nothing."""

    __tablename__ = "ingested_events"
    __table_args__ = (
        # Referenced by plays: together with plays' own unique key this makes one play per event_id.
        UniqueConstraint("event_id", "occurred_at"),
        CheckConstraint(_in("event_type", EVENT_TYPES), name="event_type_known"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(16), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = _now()


class Play(Base):
    """Raw plays, range-partitioned by month on ``played_at``.

    Partitions are created ahead of time by ``streamvault_ensure_play_partitions``; a DEFAULT
    partition catches anything outside them and the same function moves those rows into the
    proper partition once it exists. Indexes serve the reads that touch raw plays: rollup
    rebuilds per creator and per track, and a user's history (GDPR export/erasure).
    """

    __tablename__ = "plays"
    __table_args__ = (
        ForeignKeyConstraint(["event_id", "played_at"],
                             ["ingested_events.event_id", "ingested_events.occurred_at"]),
        CheckConstraint("duration_ms >= 0", name="duration_nonnegative"),
        CheckConstraint(_in("source", PLAY_SOURCES), name="source_known"),
        Index("ix_plays_creator_id_played_at", "creator_id", "played_at"),
        Index("ix_plays_track_id_played_at", "track_id", "played_at"),
        Index("ix_plays_user_id_played_at", "user_id", "played_at", postgresql_where=text("user_id IS NOT NULL")),
        {"postgresql_partition_by": "RANGE (played_at)"},
    )

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    played_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), nullable=False)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False, server_default="stream")
    country: Mapped[str | None] = mapped_column(String(2))
    ip_prefix: Mapped[str | None] = mapped_column(INET)  # anonymized: IPv4 /24, IPv6 /48
    ua_hash: Mapped[bytes | None] = mapped_column(LargeBinary)  # keyed hash, never the raw agent
    received_at: Mapped[datetime] = _now()


class Like(Base):
    __tablename__ = "likes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = _now()


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint("length(body) BETWEEN 1 AND 5000", name="body_length"),
        Index("ix_comments_track_id_created_at", "track_id", "created_at", postgresql_where=text("deleted_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _now()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


REVENUE_KINDS = ("purchase", "tip")


class RevenueEvent(Base):
    """Track sales and tips as ingested, one per client event: the raw rows behind the revenue
    columns of the daily rollups."""

    __tablename__ = "revenue_events"
    __table_args__ = (
        CheckConstraint(_in("kind", REVENUE_KINDS), name="kind_known"),
        CheckConstraint("amount_attofil > 0", name="amount_positive"),
        CheckConstraint("kind = 'tip' OR track_id IS NOT NULL", name="purchase_has_track"),
        Index("ix_revenue_events_creator_id_occurred_at", "creator_id", "occurred_at"),
        Index("ix_revenue_events_user_id", "user_id", postgresql_where=text("user_id IS NOT NULL")),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingested_events.event_id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), nullable=False)
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    amount_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = _now()


class FollowEvent(Base):
    """Follows and unfollows that changed something (a repeated follow or an unfollow of nothing
    is not here): the raw rows behind ``creator_daily_stats.follows/unfollows``, which ``follows``
    alone cannot give back once a follow is undone."""

    __tablename__ = "follow_events"
    __table_args__ = (Index("ix_follow_events_creator_id_occurred_at", "creator_id", "occurred_at"),)

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingested_events.event_id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), nullable=False)
    followed: Mapped[bool] = mapped_column(Boolean, nullable=False)  # false: an unfollow
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CreatorDailyStats(Base):
    __tablename__ = "creator_daily_stats"
    __table_args__ = (
        *(CheckConstraint(f"{c} >= 0", name=f"{c}_nonnegative")
          for c in ("plays", "listen_ms", "likes", "comments", "follows", "unfollows", "revenue_attofil")),
        {"postgresql_with": {"fillfactor": 80}},  # as tracks: the day's row is updated by every batch
    )

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    plays: Mapped[int] = _counter()
    listen_ms: Mapped[int] = _counter()
    likes: Mapped[int] = _counter()
    comments: Mapped[int] = _counter()
    follows: Mapped[int] = _counter()
    unfollows: Mapped[int] = _counter()
    revenue_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False, server_default="0")  # sales + tips


class DailyStats(Base):
    __tablename__ = "daily_stats"
    __table_args__ = tuple(
        CheckConstraint(f"{c} >= 0", name=f"{c}_nonnegative")
        for c in ("plays", "listen_ms", "likes", "comments", "follows", "new_users", "revenue_attofil")
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    plays: Mapped[int] = _counter()
    listen_ms: Mapped[int] = _counter()
    likes: Mapped[int] = _counter()
    comments: Mapped[int] = _counter()
    follows: Mapped[int] = _counter()
    new_users: Mapped[int] = _counter()
    revenue_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False, server_default="0")


class CreatorMilestone(Base):
    __tablename__ = "creator_milestones"
    __table_args__ = (
        UniqueConstraint("creator_id", "milestone_type", "threshold"),
        CheckConstraint(_in("milestone_type", MILESTONE_TYPES), name="milestone_type_known"),
        CheckConstraint("threshold > 0", name="threshold_positive"),
        CheckConstraint("value_reached >= threshold", name="value_reaches_threshold"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), nullable=False)
    milestone_type: Mapped[str] = mapped_column(String(16), nullable=False)
    threshold: Mapped[int] = mapped_column(AttoFil, nullable=False)  # plays, followers or attoFIL
    value_reached: Mapped[int] = mapped_column(AttoFil, nullable=False)
    reached_at: Mapped[datetime] = _now()
    action_tx_hash: Mapped[str | None] = mapped_column(String(66))


class CreatorSyncState(Base):
    """What the chain last confirmed for a creator: the oracle compares it to live metrics."""

    __tablename__ = "creator_sync_state"
    __table_args__ = (CheckConstraint("epoch >= 0", name="epoch_nonnegative"),)

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    plays: Mapped[int] = mapped_column(BigInteger, nullable=False)
    followers: Mapped[int] = mapped_column(BigInteger, nullable=False)
    engagement_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    monthly_revenue_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    tx_hash: Mapped[str | None] = mapped_column(String(66))


class OracleSyncLog(Base):
    __tablename__ = "oracle_sync_logs"
    __table_args__ = (
        CheckConstraint(_in("operation", ORACLE_OPERATIONS), name="operation_known"),
        CheckConstraint(_in("status", ORACLE_STATUSES), name="status_known"),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        CheckConstraint("gas_used IS NULL OR gas_used >= 0", name="gas_nonnegative"),
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration_nonnegative"),
        Index("ix_oracle_sync_logs_created_at", "created_at"),
        Index("ix_oracle_sync_logs_status_created_at", "status", "created_at"),
        Index("ix_oracle_sync_logs_creator_id_created_at", "creator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    operation: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("creators.id"))  # single-creator operations
    creator_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    batch_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    attempt: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="1")
    error_class: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _now()


class RevenueDistribution(Base):
    __tablename__ = "revenue_distributions"
    __table_args__ = (
        UniqueConstraint("creator_id", "quarter"),
        CheckConstraint(r"quarter ~ '^[0-9]{4}Q[1-4]$'", name="quarter_format"),
        CheckConstraint("revenue_attofil >= 0", name="revenue_nonnegative"),
        CheckConstraint("holders_share_attofil >= 0 AND holders_share_attofil <= revenue_attofil",
                        name="share_within_revenue"),
        CheckConstraint(_in("status", ("PENDING", "SENT", "CONFIRMED", "FAILED")), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), nullable=False)
    quarter: Mapped[str] = mapped_column(String(6), nullable=False)
    revenue_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False)
    holders_share_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False)
    # Holders are paid pro rata to their coin balance at the end of this block.
    snapshot_block: Mapped[int | None] = mapped_column(BigInteger)
    # The deposit's transaction (transaction manager); its outcome sets status and tx_hash.
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("chain_transactions.id"), unique=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="PENDING")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)  # API key id, or "cli:<user>"
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _now()


API_SCOPES = ("read", "ingest", "admin")


class ApiKey(Base):
    """API keys: only a SHA-256 of the secret is stored (the keys are 256-bit random, so a fast
    hash is enough); the secret is shown once, at creation."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'ingest', 'admin']::varchar[]",
                        name="scopes_known"),
        CheckConstraint("octet_length(key_hash) = 32", name="key_hash_sha256"),
        CheckConstraint("rate_limit_per_s IS NULL OR rate_limit_per_s > 0", name="rate_limit_positive"),
        CheckConstraint("burst IS NULL OR burst > 0", name="burst_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16), nullable=False)  # to recognise a key in lists
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)), nullable=False)
    rate_limit_per_s: Mapped[int | None] = mapped_column(Integer)  # None: the stage's default
    burst: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- chain: the transaction manager's state (streamvault.chain.txmanager) and the oracle's runs ----

CHAIN_TX_STATES = ("unsent", "sent", "confirmed", "failed")
CHAIN_ATTEMPT_STATES = ("in_progress", "broadcast")
BREAKER_STATES = ("closed", "open", "half_open")


class ChainNonce(Base):
    """The next nonce per signer and chain. Allocated under this row's lock in the same database
    transaction that stores the attempt using it: no gap and no reuse, however many run at once."""

    __tablename__ = "chain_nonces"
    __table_args__ = (CheckConstraint("next_nonce >= 0", name="next_nonce_nonnegative"),)

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    address: Mapped[str] = mapped_column(String(42), primary_key=True)  # checksummed
    next_nonce: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = _now()


class ChainTransaction(Base):
    """One intended transaction: unsent → sent (nonce assigned, attempts signed) → confirmed/failed."""

    __tablename__ = "chain_transactions"
    __table_args__ = (
        CheckConstraint(_in("state", CHAIN_TX_STATES), name="state_known"),
        CheckConstraint("state NOT IN ('sent', 'confirmed') OR nonce IS NOT NULL", name="sent_has_nonce"),
        CheckConstraint("nonce IS NULL OR nonce >= 0", name="nonce_nonnegative"),
        # A nonce belongs to one transaction of a signer at a time: reuse is impossible by construction.
        Index("uq_chain_transactions_nonce", "chain_id", "from_address", "nonce", unique=True,
              postgresql_where=text("nonce IS NOT NULL")),
        Index("ix_chain_transactions_pending", "chain_id", "from_address", "nonce",
              postgresql_where=text("state IN ('unsent', 'sent')")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)  # e.g. UPDATE_METRICS
    chain_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    from_address: Mapped[str] = mapped_column(String(42), nullable=False)
    to_address: Mapped[str] = mapped_column(String(42), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    value_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False, server_default="0")
    gas_limit: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="unsent")
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    tx_hash: Mapped[str | None] = mapped_column(String(66))  # the attempt that was mined
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    error_class: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChainTxAttempt(Base):
    """A signed attempt at a transaction's nonce: the first, then each fee-bumped replacement.
    Stored (``in_progress``) before it is broadcast, so that a process dying in between leaves a
    record the next run re-broadcasts (the same bytes: at most one of them can ever be mined)."""

    __tablename__ = "chain_tx_attempts"
    __table_args__ = (
        CheckConstraint(_in("state", CHAIN_ATTEMPT_STATES), name="state_known"),
        CheckConstraint("max_priority_fee_per_gas <= max_fee_per_gas", name="tip_within_max_fee"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("chain_transactions.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    tx_hash: Mapped[str] = mapped_column(String(66), nullable=False, unique=True)
    nonce: Mapped[int] = mapped_column(BigInteger, nullable=False)
    max_fee_per_gas: Mapped[int] = mapped_column(AttoFil, nullable=False)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(AttoFil, nullable=False)
    gas_limit: Mapped[int] = mapped_column(BigInteger, nullable=False)
    raw: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # signed bytes: public once broadcast
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="in_progress")
    created_at: Mapped[datetime] = _now()
    broadcast_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChainCircuitBreaker(Base):
    __tablename__ = "chain_circuit_breakers"
    __table_args__ = (
        CheckConstraint(_in("state", BREAKER_STATES), name="state_known"),
        CheckConstraint("consecutive_failures >= 0", name="failures_nonnegative"),
    )

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="closed")
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _now()


class OracleSyncRun(Base):
    """One sync run; its id is the epoch every update of the run carries on chain (uint32 there)."""

    __tablename__ = "oracle_sync_runs"
    __table_args__ = (CheckConstraint("id < 4294967296", name="id_fits_uint32"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)  # schedule, cli, local, bench
    started_at: Mapped[datetime] = _now()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    creators: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    transactions: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class OracleSyncItem(Base):
    """A creator's metrics inside one oracle transaction; copied into ``creator_sync_state`` when
    the transaction is confirmed (only if newer than what is there)."""

    __tablename__ = "oracle_sync_items"

    transaction_id: Mapped[int] = mapped_column(ForeignKey("chain_transactions.id", ondelete="CASCADE"),
                                                primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger, nullable=False)
    plays: Mapped[int] = mapped_column(BigInteger, nullable=False)
    followers: Mapped[int] = mapped_column(BigInteger, nullable=False)
    engagement_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    monthly_revenue_attofil: Mapped[int] = mapped_column(AttoFil, nullable=False)
