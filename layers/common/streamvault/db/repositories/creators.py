"""Creator reads: profile with counters, engagement inputs, and the oracle's sync candidates.

Every figure comes from counters and rollups; nothing here reads raw ``plays``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from streamvault.domain.engagement import CONSISTENCY_WINDOW_DAYS, EngagementInputs

# Per-creator metrics, set-based. `:as_of` fixes "now" so that a whole sync run (and a test)
# sees one consistent month and one 90-day window.
_METRICS_CTE = f"""
WITH recent_tracks AS (
    SELECT t.creator_id, count(*) AS tracks_90d
    FROM tracks t
    WHERE t.deleted_at IS NULL
      AND t.released_at > CAST(:as_of AS timestamptz) - interval '{CONSISTENCY_WINDOW_DAYS} days'
      AND t.released_at <= CAST(:as_of AS timestamptz)
    GROUP BY t.creator_id
), month_revenue AS (
    SELECT s.creator_id, sum(s.revenue_attofil) AS revenue
    FROM creator_daily_stats s
    WHERE s.day >= date_trunc('month', CAST(:as_of AS timestamptz) AT TIME ZONE 'UTC')::date
      AND s.day <= (CAST(:as_of AS timestamptz) AT TIME ZONE 'UTC')::date
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
    metrics: CreatorMetrics


def _metrics(row) -> CreatorMetrics:
    return CreatorMetrics(
        creator_id=row.creator_id, plays=row.plays, followers=row.followers, likes=row.likes,
        comments=row.comments, tracks_90d=row.tracks_90d, engagement_score=row.engagement_score,
        monthly_revenue_attofil=int(row.monthly_revenue_attofil),
    )


def creator_metrics(conn: Connection, creator_id: int, as_of: datetime) -> CreatorMetrics | None:
    sql = _METRICS_CTE.format(creator_filter="AND c.id = :creator_id") + "SELECT * FROM metrics"
    row = conn.execute(text(sql), {"creator_id": creator_id, "as_of": as_of}).one_or_none()
    return None if row is None else _metrics(row)


def get_creator_profile(conn: Connection, creator_id: int, as_of: datetime) -> CreatorProfile | None:
    row = conn.execute(
        text("""
            SELECT id, user_id, name, bio, verified, coin_address, revenue_sharing_enabled, track_count, created_at
            FROM creators WHERE id = :id AND deleted_at IS NULL
        """),
        {"id": creator_id},
    ).one_or_none()
    if row is None:
        return None
    metrics = creator_metrics(conn, creator_id, as_of)
    assert metrics is not None  # same row, same transaction
    return CreatorProfile(**row._asdict(), metrics=metrics)


def eligible_for_sync(
    conn: Connection, as_of: datetime, heartbeat: timedelta = timedelta(days=1), limit: int | None = None
) -> list[CreatorMetrics]:
    """Verified creators with a wallet whose on-chain metrics are missing, differ from the
    live ones, or were last confirmed longer than ``heartbeat`` ago; oldest sync first."""
    sql = _METRICS_CTE.format(
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
    sql = _METRICS_CTE.format(
        creator_filter="" if creator_ids is None else "AND c.id = ANY(:creator_ids)"
    ) + """
        UPDATE creators c SET engagement_score = m.engagement_score
        FROM metrics m
        WHERE c.id = m.creator_id AND c.engagement_score IS DISTINCT FROM m.engagement_score
    """
    return conn.execute(text(sql), {"as_of": as_of, "creator_ids": creator_ids}).rowcount
