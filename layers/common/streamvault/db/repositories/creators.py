"""Creator reads: profiles, sorted lists, engagement inputs, and the oracle's sync candidates.

Every figure comes from counters and rollups; nothing here reads raw ``plays``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import psycopg
from sqlalchemy import Connection, text

from streamvault.domain.engagement import CONSISTENCY_WINDOW_DAYS, EngagementInputs

# A live track `t` released in the score's window ending at `:as_of` (the score's third term).
LIVE_RELEASE_IN_WINDOW = f"""t.deleted_at IS NULL
      AND t.released_at > CAST(:as_of AS timestamptz) - interval '{CONSISTENCY_WINDOW_DAYS} days'
      AND t.released_at <= CAST(:as_of AS timestamptz)"""
# Per-creator metrics, set-based (many creators at once: sync runs, score refreshes). `:as_of`
# fixes "now" so that a whole sync run (and a test) sees one month and one 90-day window. The
# profile function of migration 0005 applies the same rules to one creator; a test holds them equal.
_METRICS_CTE = f"""
WITH recent_tracks AS (
    SELECT t.creator_id, count(*) AS tracks_90d
    FROM tracks t
    WHERE {LIVE_RELEASE_IN_WINDOW} {{track_scope}}
    GROUP BY t.creator_id
), month_revenue AS (
    SELECT s.creator_id, sum(s.revenue_attofil) AS revenue
    FROM creator_daily_stats s
    WHERE s.day >= date_trunc('month', CAST(:as_of AS timestamptz) AT TIME ZONE 'UTC')::date
      AND s.day <= (CAST(:as_of AS timestamptz) AT TIME ZONE 'UTC')::date {{stats_scope}}
    GROUP BY s.creator_id
), metrics AS (
    SELECT c.id AS creator_id, c.play_count AS plays, c.follower_count AS followers,
           c.like_count AS likes, c.comment_count AS comments,
           coalesce(rt.tracks_90d, 0) AS tracks_90d,
           streamvault_engagement_score(c.play_count, c.follower_count, c.like_count, c.comment_count,
                                        coalesce(rt.tracks_90d, 0)) AS engagement_score,
           -- monthly revenue: sales + tips this calendar month + 10% of a known market cap
           coalesce(mr.revenue, 0) + coalesce(div(c.market_cap_attofil, 10), 0) AS monthly_revenue_attofil,
           c.metrics_changed_at
    FROM creators c
    LEFT JOIN recent_tracks rt ON rt.creator_id = c.id
    LEFT JOIN month_revenue mr ON mr.creator_id = c.id
    WHERE c.deleted_at IS NULL {{creator_filter}}
)
"""


def _metrics_sql(creator_filter: str = "", ids: str | None = None) -> str:
    """The metrics CTE; ``ids`` (a SQL expression for an array of creator ids) narrows the
    aggregates themselves, so a few creators cost a few index look-ups, not a full scan."""
    scope = "" if ids is None else f"= ANY({ids})"
    return _METRICS_CTE.format(
        creator_filter=creator_filter + (f" AND c.id {scope}" if scope else ""),
        track_scope=f"AND t.creator_id {scope}" if scope else "",
        stats_scope=f"AND s.creator_id {scope}" if scope else "",
    )


@dataclass(frozen=True, slots=True)
class CreatorMetrics:
    creator_id: int
    plays: int
    followers: int
    likes: int
    comments: int
    tracks_90d: int
    engagement_score: Decimal
    monthly_revenue_attofil: int

    @property
    def engagement_inputs(self) -> EngagementInputs:
        return EngagementInputs(self.plays, self.followers, self.likes, self.comments, self.tracks_90d)

    @property
    def engagement_bps(self) -> int:
        return int(self.engagement_score * 100)


@dataclass(frozen=True, slots=True)
class SyncState:
    """What the chain last confirmed for a creator (``creator_sync_state``)."""

    epoch: int
    plays: int
    followers: int
    engagement_bps: int
    monthly_revenue_attofil: int
    synced_at: datetime
    tx_hash: str | None


@dataclass(frozen=True, slots=True)
class CreatorProfile:
    id: int
    user_id: int
    name: str
    bio: str | None
    verified: bool
    coin_address: str | None
    revenue_sharing_enabled: bool
    track_count: int
    created_at: datetime
    engagement_inputs: EngagementInputs  # the score and its terms are the domain's to compute
    monthly_revenue_attofil: int
    # milestone_type, threshold and value_reached (integers as text: REVENUE ones are attoFIL),
    # reached_at (ISO text), action_tx_hash; oldest first
    milestones: list[dict[str, Any]]
    sync_state: SyncState | None  # None until the oracle first confirms this creator


def _metrics(row) -> CreatorMetrics:
    return CreatorMetrics(
        creator_id=row.creator_id, plays=row.plays, followers=row.followers, likes=row.likes,
        comments=row.comments, tracks_90d=row.tracks_90d, engagement_score=row.engagement_score,
        monthly_revenue_attofil=int(row.monthly_revenue_attofil),
    )


def creator_metrics(conn: Connection, creator_id: int, as_of: datetime) -> CreatorMetrics | None:
    sql = _metrics_sql(ids="ARRAY[CAST(:creator_id AS bigint)]") + "SELECT * FROM metrics"
    row = conn.execute(text(sql), {"creator_id": creator_id, "as_of": as_of}).one_or_none()
    return None if row is None else _metrics(row)


def metrics_of_many(conn: Connection, as_of: datetime, creator_ids: list[int] | None = None) -> list[CreatorMetrics]:
    """Live metrics of these creators (of every live creator when None), set-based."""
    sql = _metrics_sql(ids=None if creator_ids is None else "CAST(:creator_ids AS bigint[])")
    rows = conn.execute(text(sql + "SELECT * FROM metrics ORDER BY creator_id"),
                        {"as_of": as_of, "creator_ids": creator_ids}).all()
    return [_metrics(r) for r in rows]


# The whole profile in one round trip, as one JSON value from a SQL function whose plan the
# server caches (migration 0005 says why): the API's hottest read, sent on the pooled psycopg
# connection itself (see `driver`).
_PROFILE_SQL = "SELECT streamvault_creator_profile(%s, %s)"


def driver(conn: Connection) -> psycopg.Connection:
    """The psycopg connection under ``conn`` (same pool, same transaction state): for the two
    hottest reads, SQLAlchemy's execution and result layers cost as much as the query itself."""
    return conn.connection.driver_connection


def get_creator_profile(conn: Connection, creator_id: int, as_of: datetime) -> CreatorProfile | None:
    (row,) = driver(conn).execute(_PROFILE_SQL, (creator_id, as_of)).fetchone()
    if row is None:
        return None
    sync = row["sync_state"]
    sync_state = None if sync is None else SyncState(
        epoch=sync["epoch"], plays=sync["plays"], followers=sync["followers"],
        engagement_bps=sync["engagement_bps"], monthly_revenue_attofil=int(sync["monthly_revenue_attofil"]),
        synced_at=datetime.fromisoformat(sync["synced_at"]), tx_hash=sync["tx_hash"],
    )
    return CreatorProfile(
        id=row["creator_id"], user_id=row["user_id"], name=row["name"], bio=row["bio"], verified=row["verified"],
        coin_address=row["coin_address"], revenue_sharing_enabled=row["revenue_sharing_enabled"],
        track_count=row["track_count"], created_at=datetime.fromisoformat(row["created_at"]),
        engagement_inputs=EngagementInputs(row["plays"], row["followers"], row["likes"], row["comments"],
                                           row["tracks_90d"]),
        monthly_revenue_attofil=int(row["monthly_revenue_attofil"]), milestones=row["milestones"],
        sync_state=sync_state,
    )


CreatorSort = Literal["engagement", "plays", "followers", "newest"]
# Each list ordering is a stored column with a partial index (column DESC, id) over live creators.
LIST_ORDERINGS: dict[CreatorSort, str] = {
    "engagement": "engagement_score", "plays": "play_count", "followers": "follower_count", "newest": "created_at",
}


@dataclass(frozen=True, slots=True)
class CreatorFilters:
    verified: bool | None = None
    min_followers: int | None = None
    has_coin: bool | None = None


def list_creators(
    conn: Connection, ordering: CreatorSort, filters: CreatorFilters, limit: int,
    after: tuple[Any, int] | None = None,
) -> list[dict[str, Any]]:
    """Live creators by ``ordering`` (descending, ties by ascending id), those after the key
    ``after`` = (sort value, id) when given; each row carries its own key as ``sort_value``.

    The keyset test is written ``col <= v AND (col < v OR id > last_id)`` so that its first half
    bounds the index scan; unset filters fold away at planning (psycopg never prepares, so each
    statement is planned with its parameters)."""
    column = LIST_ORDERINGS[ordering]
    after_value, after_id = after or (None, None)
    rows = conn.execute(
        text(f"""
            SELECT id, name, verified, follower_count AS followers, play_count AS total_plays, like_count AS likes,
                   comment_count AS comments, track_count AS tracks, engagement_score, coin_address, created_at,
                   {column} AS sort_value
            FROM creators
            WHERE deleted_at IS NULL
              AND (CAST(:verified AS boolean) IS NULL OR verified = :verified)
              AND (CAST(:min_followers AS bigint) IS NULL OR follower_count >= :min_followers)
              AND (CAST(:has_coin AS boolean) IS NULL OR (coin_address IS NOT NULL) = :has_coin)
              AND (CAST(:after_id AS bigint) IS NULL
                   OR ({column} <= :after_value AND ({column} < :after_value OR id > :after_id)))
            ORDER BY {column} DESC, id
            LIMIT :limit
        """),
        {"verified": filters.verified, "min_followers": filters.min_followers, "has_coin": filters.has_coin,
         "after_value": after_value, "after_id": after_id, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def eligible_for_sync(
    conn: Connection, as_of: datetime, heartbeat: timedelta = timedelta(days=1), limit: int | None = None
) -> list[CreatorMetrics]:
    """Verified creators with a wallet whose on-chain metrics are missing, differ from the
    live ones, or were last confirmed longer than ``heartbeat`` ago; oldest sync first."""
    sql = _metrics_sql(
        creator_filter="AND c.verified AND c.wallet_ciphertext IS NOT NULL"
    ) + """
        SELECT m.* FROM metrics m
        LEFT JOIN creator_sync_state s ON s.creator_id = m.creator_id
        WHERE s.creator_id IS NULL
           OR s.plays <> m.plays OR s.followers <> m.followers
           OR s.engagement_bps <> (m.engagement_score * 100)::integer
           OR s.monthly_revenue_attofil <> m.monthly_revenue_attofil
           OR s.synced_at < CAST(:as_of AS timestamptz) - CAST(:heartbeat AS interval)
        ORDER BY s.synced_at NULLS FIRST, m.creator_id
        LIMIT :limit
    """
    rows = conn.execute(text(sql), {"as_of": as_of, "heartbeat": heartbeat, "limit": limit}).all()
    return [_metrics(r) for r in rows]


def refresh_engagement_scores(conn: Connection, as_of: datetime, creator_ids: list[int] | None = None) -> int:
    """Recompute the stored engagement score (for sorted lists) of some creators, or of all of
    them; only rows whose score changed are written. Returns how many changed."""
    sql = _metrics_sql(
        ids=None if creator_ids is None else "CAST(:creator_ids AS bigint[])"
    ) + """
        UPDATE creators c SET engagement_score = m.engagement_score
        FROM metrics m
        WHERE c.id = m.creator_id AND c.engagement_score IS DISTINCT FROM m.engagement_score
    """
    return conn.execute(text(sql), {"as_of": as_of, "creator_ids": creator_ids}).rowcount
