"""Shared by the ingestion tests: events, calling the ingest handler, and the exactness check."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text
from streamvault.local.apigw import LocalContext, apigw_event, response_parts

from functions.ingest.app import lambda_handler
from tests.integration.factories import make_creator, make_track, make_user

INGESTER = {"keyId": "ingest-key", "scopes": "ingest"}
JSON = {"content-type": "application/json"}


def now() -> datetime:
    return datetime.now(UTC)


def event(type_: str, **fields: Any) -> dict[str, Any]:
    at = fields.pop("at", None) or now() - timedelta(seconds=1)
    time_field = "played_at" if type_ == "play" else "occurred_at"
    return {"event_id": str(uuid.uuid4()), "type": type_, time_field: at.isoformat(), **fields}


def play(track_id: int, **fields: Any) -> dict[str, Any]:
    return event("play", track_id=track_id, duration_ms=fields.pop("duration_ms", 120_000), **fields)


def post(events: list[dict[str, Any]] | None = None, *, body: str | bytes | None = None,
         headers: dict[str, str] | None = JSON, authorizer: dict[str, Any] | None = INGESTER,
         ) -> tuple[int, dict[str, Any], dict[str, str]]:
    payload = json.dumps({"events": events}) if body is None else body
    result = lambda_handler(apigw_event("POST", "/v1/events", headers, payload, authorizer=authorizer),
                            LocalContext())
    status, out_headers, data = response_parts(result)
    return status, json.loads(data), out_headers


def catalog(conn: Connection, creators: int = 2, tracks_each: int = 2, users: int = 3) -> dict[str, list[int]]:
    creator_ids = [make_creator(conn) for _ in range(creators)]
    released = now() - timedelta(days=10)
    track_ids = [make_track(conn, c, released) for c in creator_ids for _ in range(tracks_each)]
    return {"creators": creator_ids, "tracks": track_ids, "users": [make_user(conn) for _ in range(users)]}


# Each rollup or counter column, and the same figure computed from the raw rows.
EXACTNESS_CHECKS = {
    "track counters": """
        SELECT t.id, t.play_count, t.like_count, t.comment_count FROM tracks t
        EXCEPT
        SELECT t.id, (SELECT count(*) FROM plays p WHERE p.track_id = t.id),
               (SELECT count(*) FROM likes l WHERE l.track_id = t.id),
               (SELECT count(*) FROM comments c WHERE c.track_id = t.id AND c.deleted_at IS NULL)
        FROM tracks t""",
    "creator counters": """
        SELECT c.id, c.play_count, c.like_count, c.comment_count, c.follower_count FROM creators c
        EXCEPT
        SELECT c.id, (SELECT count(*) FROM plays p WHERE p.creator_id = c.id),
               (SELECT count(*) FROM likes l JOIN tracks t ON t.id = l.track_id WHERE t.creator_id = c.id),
               (SELECT count(*) FROM comments m JOIN tracks t ON t.id = m.track_id
                WHERE t.creator_id = c.id AND m.deleted_at IS NULL),
               (SELECT count(*) FROM follows f WHERE f.creator_id = c.id)
        FROM creators c""",
    "creator_daily_stats": """
        WITH raw AS (
            SELECT creator_id, (played_at AT TIME ZONE 'UTC')::date AS day, 1 AS plays, duration_ms AS listen_ms,
                   0 AS likes, 0 AS comments, 0 AS follows, 0 AS unfollows, 0::numeric AS revenue FROM plays
            UNION ALL
            SELECT t.creator_id, (l.created_at AT TIME ZONE 'UTC')::date, 0, 0, 1, 0, 0, 0, 0
            FROM likes l JOIN tracks t ON t.id = l.track_id
            UNION ALL
            SELECT t.creator_id, (m.created_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 1, 0, 0, 0
            FROM comments m JOIN tracks t ON t.id = m.track_id WHERE m.deleted_at IS NULL
            UNION ALL
            SELECT creator_id, (occurred_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0,
                   CASE WHEN followed THEN 1 ELSE 0 END, CASE WHEN followed THEN 0 ELSE 1 END, 0
            FROM follow_events
            UNION ALL
            SELECT creator_id, (occurred_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 0, 0, amount_attofil
            FROM revenue_events
        ), expected AS (
            SELECT creator_id, day, sum(plays) AS plays, sum(listen_ms) AS listen_ms, sum(likes) AS likes,
                   sum(comments) AS comments, sum(follows) AS follows, sum(unfollows) AS unfollows,
                   sum(revenue) AS revenue
            FROM raw GROUP BY 1, 2
        )
        (SELECT creator_id, day, plays, listen_ms, likes, comments, follows, unfollows, revenue_attofil
         FROM creator_daily_stats WHERE (plays, listen_ms, likes, comments, follows, unfollows, revenue_attofil)
                                        <> (0, 0, 0, 0, 0, 0, 0)
         EXCEPT SELECT * FROM expected)
        UNION ALL
        (SELECT * FROM expected EXCEPT
         SELECT creator_id, day, plays, listen_ms, likes, comments, follows, unfollows, revenue_attofil
         FROM creator_daily_stats)""",
    "daily_stats": """
        WITH expected AS (
            SELECT day, sum(plays) AS plays, sum(listen_ms) AS listen_ms, sum(likes) AS likes,
                   sum(comments) AS comments, sum(follows) AS follows, sum(revenue_attofil) AS revenue
            FROM creator_daily_stats GROUP BY day
        )
        (SELECT day, plays, listen_ms, likes, comments, follows, revenue_attofil FROM daily_stats
         EXCEPT SELECT * FROM expected)
        UNION ALL
        (SELECT * FROM expected
         EXCEPT SELECT day, plays, listen_ms, likes, comments, follows, revenue_attofil FROM daily_stats)""",
    # the stored score (sorted lists) of every creator the events reached, against its rule
    "engagement scores": """
        SELECT id, engagement_score FROM creators WHERE play_count + like_count + comment_count + follower_count > 0
        EXCEPT
        SELECT c.id, streamvault_engagement_score(
            c.play_count, c.follower_count, c.like_count, c.comment_count,
            (SELECT count(*) FROM tracks t WHERE t.creator_id = c.id AND t.deleted_at IS NULL
               AND t.released_at > now() - interval '90 days' AND t.released_at <= now()))
        FROM creators c""",
}


def rollup_mismatches(conn: Connection) -> dict[str, list[Any]]:
    """Every counter and rollup row that differs from the raw tables (empty: all exact)."""
    found = {name: [tuple(r) for r in conn.execute(text(sql))] for name, sql in EXACTNESS_CHECKS.items()}
    return {name: rows for name, rows in found.items() if rows}
