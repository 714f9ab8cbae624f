"""The API's two hottest reads as SQL functions: a creator's profile and its daily series.

Why functions: the API never prepares statements (prepared statements pin RDS Proxy
connections), so every plain query is planned on every request, and for these multi-part
queries planning costs more than executing. PL/pgSQL caches the plan of its inner query per
server session, which pins nothing: one round trip, no planning after the first calls, and one
JSON value to decode instead of a wide row. The repositories (``creators.get_creator_profile``,
``stats.creator_daily_series``) hold the only callers; change these bodies in a new migration.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Counters, the 90-day release window, this month's sales + tips + 10% of a known market cap,
# the last confirmed sync, and milestones oldest first; NULL for an unknown or deleted creator.
CREATOR_PROFILE = r"""
CREATE OR REPLACE FUNCTION streamvault_creator_profile(p_creator_id bigint, p_as_of timestamptz)
RETURNS json LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    RETURN (
        SELECT row_to_json(p) FROM (
            SELECT c.id AS creator_id, c.play_count AS plays, c.follower_count AS followers,
                   c.like_count AS likes, c.comment_count AS comments, c.user_id, c.name, c.bio, c.verified,
                   c.coin_address, c.revenue_sharing_enabled, c.track_count, c.created_at,
                   (SELECT count(*) FROM tracks t
                     WHERE t.creator_id = c.id AND t.deleted_at IS NULL
                       AND t.released_at > p_as_of - interval '90 days' AND t.released_at <= p_as_of
                   ) AS tracks_90d,
                   (coalesce((SELECT sum(s.revenue_attofil) FROM creator_daily_stats s
                               WHERE s.creator_id = c.id
                                 AND s.day >= date_trunc('month', p_as_of AT TIME ZONE 'UTC')::date
                                 AND s.day <= (p_as_of AT TIME ZONE 'UTC')::date), 0)
                    + coalesce(div(c.market_cap_attofil, 10), 0))::text AS monthly_revenue_attofil,
                   CASE WHEN ss.creator_id IS NOT NULL THEN json_build_object(
                       'epoch', ss.epoch, 'plays', ss.plays, 'followers', ss.followers,
                       'engagement_bps', ss.engagement_bps,
                       'monthly_revenue_attofil', ss.monthly_revenue_attofil::text,
                       'synced_at', ss.synced_at, 'tx_hash', ss.tx_hash) END AS sync_state,
                   (SELECT coalesce(json_agg(json_build_object(
                                'milestone_type', cm.milestone_type, 'threshold', cm.threshold::text,
                                'value_reached', cm.value_reached::text, 'reached_at', cm.reached_at,
                                'action_tx_hash', cm.action_tx_hash)
                            ORDER BY cm.reached_at, cm.milestone_type, cm.threshold), '[]')
                      FROM creator_milestones cm WHERE cm.creator_id = c.id) AS milestones
            FROM creators c
            LEFT JOIN creator_sync_state ss ON ss.creator_id = c.id
            WHERE c.id = p_creator_id AND c.deleted_at IS NULL
        ) p
    );
END
$fn$;
"""

# The creator's rollup rows from p_start to p_end, in order; one row of NULLs when it has none
# in the range, no row at all for an unknown or deleted creator (so one call also answers
# "does it exist"). Quiet days are filled in by the repository: cheaper than generating them here.
CREATOR_SERIES = r"""
CREATE OR REPLACE FUNCTION streamvault_creator_series(p_creator_id bigint, p_start date, p_end date)
RETURNS TABLE (day date, plays bigint, listen_ms bigint, likes bigint, comments bigint, follows bigint,
               unfollows bigint, revenue_attofil text)
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    RETURN QUERY
        SELECT s.day, s.plays, s.listen_ms, s.likes, s.comments, s.follows, s.unfollows, s.revenue_attofil::text
        FROM creators c
        LEFT JOIN creator_daily_stats s ON s.creator_id = c.id AND s.day BETWEEN p_start AND p_end
        WHERE c.id = p_creator_id AND c.deleted_at IS NULL
        ORDER BY s.day;
END
$fn$;
"""


def upgrade() -> None:
    op.execute(CREATOR_PROFILE)
    op.execute(CREATOR_SERIES)


def downgrade() -> None:
    op.execute("DROP FUNCTION streamvault_creator_series(bigint, date, date)")
    op.execute("DROP FUNCTION streamvault_creator_profile(bigint, timestamptz)")
