"""Ingestion SQL: set-based, one statement per table and batch, rows passed as one JSON document.

``json_to_recordset`` keeps a 500-event batch to a handful of round trips without temporary
tables (those would pin RDS Proxy connections) or COPY. Every statement that can make two writers wait
for each other takes its rows in key order (``ORDER BY`` before insertion, ``FOR NO KEY UPDATE``
in id order before counter updates), so concurrent batches queue on shared rows instead of
deadlocking.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, TextClause, text

from streamvault.db.repositories.creators import LIVE_RELEASE_IN_WINDOW
from streamvault.domain.events import IngestEvent
from streamvault.domain.rollups import SIGNED, Rollup


@dataclass(frozen=True)
class References:
    """Live rows the batch names: tracks (with their creator), users, creators."""

    track_creators: dict[int, int]
    users: frozenset[int]
    creators: frozenset[int]


# The references query is small and index-driven; PostgreSQL still picks a parallel plan for it
# at times, and starting workers costs more than they save (the references of a 500-play
# batch: 12 ms with workers, 7 ms without). Statements that write, or lock rows, never run in
# parallel. For this transaction only: no session state is left on a pooled (RDS Proxy) connection.
_SERIAL_PLANS = text("SELECT set_config('max_parallel_workers_per_gather', '0', true)")


def serial_plans(conn: Connection) -> None:
    conn.execute(_SERIAL_PLANS)


_REFERENCES = text("""
    SELECT 't' AS kind, t.id, t.creator_id
    FROM tracks t JOIN creators c ON c.id = t.creator_id AND c.deleted_at IS NULL
    WHERE t.id = ANY(CAST(:tracks AS bigint[])) AND t.deleted_at IS NULL
    UNION ALL
    SELECT 'u', id, NULL FROM users WHERE id = ANY(CAST(:users AS bigint[])) AND deleted_at IS NULL
    UNION ALL
    SELECT 'c', id, NULL FROM creators WHERE id = ANY(CAST(:creators AS bigint[])) AND deleted_at IS NULL
""")


def live_references(conn: Connection, tracks: Iterable[int], users: Iterable[int],
                    creators: Iterable[int]) -> References:
    rows = conn.execute(_REFERENCES, {"tracks": list(tracks), "users": list(users), "creators": list(creators)})
    track_creators: dict[int, int] = {}
    live: dict[str, set[int]] = {"u": set(), "c": set()}
    for kind, id_, creator_id in rows:
        if kind == "t":
            track_creators[id_] = creator_id
        else:
            live[kind].add(id_)
    return References(track_creators, frozenset(live["u"]), frozenset(live["c"]))


def _json(rows: Iterable[dict[str, Any]]) -> str:
    """Rows as one JSON document for ``json_to_recordset``: a single parameter that PostgreSQL
    parses in C, several times faster to send than one array per column (psycopg builds those
    element by element in Python). Dates, times and ids go as their ISO/text forms."""
    return json.dumps(list(rows), separators=(",", ":"), default=str)


def _bytea(value: bytes | None) -> str | None:
    return None if value is None else "\\x" + value.hex()


# The ledger first: a conflict means the event was stored before (or is being stored by a
# concurrent batch, which this one then waits for), so only the returned ids go any further.
_RECORD = text("""
    INSERT INTO ingested_events (event_id, event_type, occurred_at)
    SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS e(event_id uuid, event_type text, occurred_at timestamptz)
    ORDER BY event_id
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
""")


def record_events(conn: Connection, events: Sequence[IngestEvent]) -> set[UUID]:
    """Add the events to the ledger; returns the ids that are new."""
    rows = _json({"event_id": str(e.event_id), "event_type": e.type, "occurred_at": e.occurred_at.isoformat()}
                 for e in events)
    return set(conn.execute(_RECORD, {"rows": rows}).scalars())


# Plays, nearly every event, in one statement: the references (a live track of a live creator,
# a live user when one is named), the ledger, and the plays the ledger took, so a batch of plays
# is one round trip and one plan, and the foreign-key checks find the rows the look-ups just
# read. The ledger takes its rows in event id order, as record_events does.
_PLAYS = text("""
    WITH d AS MATERIALIZED (
        SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS d(
            position integer, event_id uuid, played_at timestamptz, track_id bigint, user_id bigint,
            duration_ms integer, source text, country text, ip_prefix inet, ua_hash bytea)
    ), resolved AS MATERIALIZED (
        SELECT d.*, t.creator_id,
               d.user_id IS NOT NULL AND NOT EXISTS (
                   SELECT FROM users u WHERE u.id = d.user_id AND u.deleted_at IS NULL) AS unknown_user
        FROM d
        LEFT JOIN (tracks t JOIN creators c ON c.id = t.creator_id AND c.deleted_at IS NULL)
            ON t.id = d.track_id AND t.deleted_at IS NULL
    ), recorded AS (
        INSERT INTO ingested_events (event_id, event_type, occurred_at)
        SELECT event_id, 'play', played_at FROM resolved WHERE creator_id IS NOT NULL AND NOT unknown_user
        ORDER BY event_id
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id
    ), stored AS (
        INSERT INTO plays (event_id, played_at, track_id, creator_id, user_id, duration_ms, source, country,
                           ip_prefix, ua_hash)
        SELECT r.event_id, r.played_at, r.track_id, r.creator_id, r.user_id, r.duration_ms, r.source, r.country,
               r.ip_prefix, r.ua_hash
        FROM resolved r JOIN recorded USING (event_id)
        RETURNING event_id
    )
    SELECT r.creator_id,
           CASE WHEN r.unknown_user THEN 'unknown_user'
                WHEN r.creator_id IS NULL THEN 'unknown_track'
                WHEN s.event_id IS NULL THEN 'duplicate' END
    FROM resolved r LEFT JOIN stored s USING (event_id)
    ORDER BY r.position
""")


def store_plays(conn: Connection, plays: Sequence[IngestEvent]) -> list[tuple[int | None, str | None]]:
    """Store the plays that name live rows and are new to the ledger; per play, in order: its
    track's creator and None when stored, else ``unknown_user``, ``unknown_track`` or ``duplicate``."""
    rows = _json({"position": i, "event_id": str(e.event_id), "played_at": e.occurred_at.isoformat(),
                  "track_id": e.track_id, "user_id": e.user_id, "duration_ms": e.duration_ms, "source": e.source,
                  "country": e.country, "ip_prefix": e.ip_prefix, "ua_hash": _bytea(e.ua_hash)}
                 for i, e in enumerate(plays))
    return [(creator_id, outcome) for creator_id, outcome in conn.execute(_PLAYS, {"rows": rows})]


def _pairs(events: Sequence[IngestEvent], other: str) -> str:
    """Pair events (like/unlike: user and track; follow/unfollow: user and creator) as JSON rows."""
    return _json({"event_id": str(e.event_id), "user_id": e.user_id, other: getattr(e, other),
                  "occurred_at": e.occurred_at.isoformat()} for e in events)


_LIKE_INPUT = "json_to_recordset(CAST(:rows AS json)) AS d(user_id bigint, track_id bigint, occurred_at timestamptz)"
_LIKE = text(f"""
    INSERT INTO likes (user_id, track_id, created_at)
    SELECT * FROM {_LIKE_INPUT}
    ORDER BY user_id, track_id
    ON CONFLICT DO NOTHING
    RETURNING user_id, track_id
""")
_UNLIKE = text(f"""
    DELETE FROM likes l USING {_LIKE_INPUT}
    WHERE l.user_id = d.user_id AND l.track_id = d.track_id
    RETURNING l.user_id, l.track_id, l.created_at
""")


def add_likes(conn: Connection, likes: Sequence[IngestEvent]) -> set[tuple[int, int]]:
    """The (user, track) pairs that were not liked yet, now liked. One event per pair."""
    return {(u, t) for u, t in conn.execute(_LIKE, {"rows": _pairs(likes, "track_id")})}


def remove_likes(conn: Connection, unlikes: Sequence[IngestEvent]) -> dict[tuple[int, int], datetime]:
    """The (user, track) pairs that were liked, now not, with when the like was made."""
    return {(u, t): at for u, t, at in conn.execute(_UNLIKE, {"rows": _pairs(unlikes, "track_id")})}


_FOLLOW_INPUT = """
    WITH d AS (
        SELECT * FROM json_to_recordset(CAST(:rows AS json))
            AS d(event_id uuid, user_id bigint, creator_id bigint, occurred_at timestamptz)
    )"""
# Only changes are logged in follow_events: the rollups count exactly those rows.
_FOLLOW = text(_FOLLOW_INPUT + """, changed AS (
        INSERT INTO follows (user_id, creator_id, created_at)
        SELECT user_id, creator_id, occurred_at FROM d ORDER BY user_id, creator_id
        ON CONFLICT DO NOTHING
        RETURNING user_id, creator_id
    )
    INSERT INTO follow_events (event_id, user_id, creator_id, followed, occurred_at)
    SELECT d.event_id, d.user_id, d.creator_id, true, d.occurred_at FROM d JOIN changed USING (user_id, creator_id)
    RETURNING event_id
""")
_UNFOLLOW = text(_FOLLOW_INPUT + """, changed AS (
        DELETE FROM follows f USING d
        WHERE f.user_id = d.user_id AND f.creator_id = d.creator_id
        RETURNING f.user_id, f.creator_id
    )
    INSERT INTO follow_events (event_id, user_id, creator_id, followed, occurred_at)
    SELECT d.event_id, d.user_id, d.creator_id, false, d.occurred_at FROM d JOIN changed USING (user_id, creator_id)
    RETURNING event_id
""")


def change_follows(conn: Connection, events: Sequence[IngestEvent], follow: bool) -> set[UUID]:
    """Follow (or unfollow), one event per (user, creator) pair; returns the events that changed something."""
    statement = _FOLLOW if follow else _UNFOLLOW
    return set(conn.execute(statement, {"rows": _pairs(events, "creator_id")}).scalars())


_COMMENTS = text("""
    INSERT INTO comments (event_id, user_id, track_id, body, created_at)
    SELECT * FROM json_to_recordset(CAST(:rows AS json))
        AS d(event_id uuid, user_id bigint, track_id bigint, body text, created_at timestamptz)
""")
# Only the author's deletion applies, once; deleting what is not there is a no-op, like an unlike.
# A comment on a deleted track is deleted too, but counted nowhere: deleting the track took its
# comments off the creator's counters already (a second decrement would go below zero).
_DELETE_COMMENTS = text("""
    UPDATE comments c SET deleted_at = d.occurred_at
    FROM json_to_recordset(CAST(:rows AS json)) AS d(comment_event_id uuid, user_id bigint, occurred_at timestamptz),
         tracks t
    WHERE c.event_id = d.comment_event_id AND c.user_id = d.user_id AND c.deleted_at IS NULL AND t.id = c.track_id
    RETURNING c.track_id, t.creator_id, c.created_at, t.deleted_at IS NULL AS counted
""")


def add_comments(conn: Connection, comments: Sequence[IngestEvent]) -> None:
    rows = _json({"event_id": str(e.event_id), "user_id": e.user_id, "track_id": e.track_id, "body": e.body,
                  "created_at": e.occurred_at.isoformat()} for e in comments)
    conn.execute(_COMMENTS, {"rows": rows})


def delete_comments(conn: Connection, deletions: Sequence[IngestEvent]) -> list[tuple[int, int, datetime]]:
    """(track, creator, created at) of each counted comment the deletions removed."""
    rows = _json({"comment_event_id": str(e.comment_event_id), "user_id": e.user_id,
                  "occurred_at": e.occurred_at.isoformat()} for e in deletions)
    return [(track, creator, at) for track, creator, at, counted in conn.execute(_DELETE_COMMENTS, {"rows": rows})
            if counted]


_REVENUE = text("""
    INSERT INTO revenue_events (event_id, kind, creator_id, track_id, user_id, amount_attofil, occurred_at)
    SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS d(
        event_id uuid, kind text, creator_id bigint, track_id bigint, user_id bigint, amount_attofil numeric,
        occurred_at timestamptz)
""")


def add_revenue(conn: Connection, events: Sequence[IngestEvent]) -> None:
    # JSON integers of any size reach numeric exactly: json_to_recordset parses their text.
    rows = _json({"event_id": str(e.event_id), "kind": e.type, "creator_id": e.creator_id, "track_id": e.track_id,
                  "user_id": e.user_id, "amount_attofil": e.amount_attofil, "occurred_at": e.occurred_at.isoformat()}
                 for e in events)
    conn.execute(_REVENUE, {"rows": rows})


# Counters, one statement per table. An UPDATE … FROM alone visits rows in whatever order its
# join plan produces, which two writers could see differently; so a CTE locks the rows in id
# order, and the UPDATE joins it: it can only reach a row the CTE has returned, hence locked.
_TRACK_COUNTERS = text("""
    WITH d AS (
        SELECT * FROM json_to_recordset(CAST(:rows AS json))
            AS d(id bigint, plays bigint, likes bigint, comments bigint)
    ), locked AS (
        SELECT id FROM tracks WHERE id IN (SELECT id FROM d) ORDER BY id FOR NO KEY UPDATE
    )
    UPDATE tracks t
    SET play_count = t.play_count + d.plays, like_count = t.like_count + d.likes,
        comment_count = t.comment_count + d.comments
    FROM d JOIN locked USING (id)
    WHERE t.id = d.id
""")
# The stored engagement score (for sorted lists) moves with the counters in the same row
# version: a second UPDATE would write every index of these rows again (three of them hold
# counters, so no update of a creator is HOT). Same rule and release window as the metrics CTE
# of the creators repository; a test holds the stored score equal to it.
_CREATOR_COUNTERS = text(f"""
    WITH d AS (
        SELECT * FROM json_to_recordset(CAST(:rows AS json))
            AS d(id bigint, plays bigint, likes bigint, comments bigint, followers bigint)
    ), locked AS (
        SELECT id FROM creators WHERE id IN (SELECT id FROM d) ORDER BY id FOR NO KEY UPDATE
    )
    UPDATE creators c
    SET play_count = c.play_count + d.plays, like_count = c.like_count + d.likes,
        comment_count = c.comment_count + d.comments, follower_count = c.follower_count + d.followers,
        engagement_score = streamvault_engagement_score(
            c.play_count + d.plays, c.follower_count + d.followers, c.like_count + d.likes,
            c.comment_count + d.comments,
            (SELECT count(*) FROM tracks t WHERE t.creator_id = c.id AND {LIVE_RELEASE_IN_WINDOW})),
        metrics_changed_at = now()
    FROM d JOIN locked USING (id)
    WHERE c.id = d.id
""")


# The daily rollups. Upserts add; but an unlike or a comment deletion takes one off the day of
# what it undoes, and PostgreSQL checks an upsert's proposed row against the CHECK constraints
# before it looks for a conflict, so a negative delta cannot ride the upsert. Hence two steps
# per table: upsert every row the batch touches with the positive parts of its deltas (zero for
# a row that is only decremented: the upsert still locks it), in key order, so that each writer
# takes all its rows in one ordered pass and writers queue instead of deadlocking; then subtract
# the negative parts from those rows, already locked, without letting any go below zero.
_CREATOR_DAY_INPUT = """json_to_recordset(CAST(:rows AS json)) AS d(
        creator_id bigint, day date, plays bigint, listen_ms bigint, likes bigint, comments bigint, follows bigint,
        unfollows bigint, revenue_attofil numeric)"""
_ADD_CREATOR_DAYS = text(f"""
    INSERT INTO creator_daily_stats AS s
        (creator_id, day, plays, listen_ms, likes, comments, follows, unfollows, revenue_attofil)
    SELECT * FROM {_CREATOR_DAY_INPUT}
    ORDER BY creator_id, day
    ON CONFLICT (creator_id, day) DO UPDATE
    SET plays = s.plays + excluded.plays, listen_ms = s.listen_ms + excluded.listen_ms,
        likes = s.likes + excluded.likes, comments = s.comments + excluded.comments,
        follows = s.follows + excluded.follows, unfollows = s.unfollows + excluded.unfollows,
        revenue_attofil = s.revenue_attofil + excluded.revenue_attofil
""")
_SUBTRACT_CREATOR_DAYS = text(f"""
    UPDATE creator_daily_stats s SET likes = s.likes + d.likes, comments = s.comments + d.comments
    FROM {_CREATOR_DAY_INPUT}
    WHERE s.creator_id = d.creator_id AND s.day = d.day
      AND s.likes + d.likes >= 0 AND s.comments + d.comments >= 0
""")
_DAY_INPUT = """json_to_recordset(CAST(:rows AS json)) AS d(
        day date, plays bigint, listen_ms bigint, likes bigint, comments bigint, follows bigint,
        revenue_attofil numeric)"""
_ADD_DAYS = text(f"""
    INSERT INTO daily_stats AS s (day, plays, listen_ms, likes, comments, follows, revenue_attofil)
    SELECT * FROM {_DAY_INPUT}
    ORDER BY day
    ON CONFLICT (day) DO UPDATE
    SET plays = s.plays + excluded.plays, listen_ms = s.listen_ms + excluded.listen_ms,
        likes = s.likes + excluded.likes, comments = s.comments + excluded.comments,
        follows = s.follows + excluded.follows, revenue_attofil = s.revenue_attofil + excluded.revenue_attofil
""")
_SUBTRACT_DAYS = text(f"""
    UPDATE daily_stats s SET likes = s.likes + d.likes, comments = s.comments + d.comments
    FROM {_DAY_INPUT}
    WHERE s.day = d.day AND s.likes + d.likes >= 0 AND s.comments + d.comments >= 0
""")


class RollupUnderflow(RuntimeError):
    """A decrement found less in its rollup row than it undoes: what it undoes was never counted
    there (the data is inconsistent)."""


def apply_rollup(conn: Connection, rollup: Rollup, as_of: datetime) -> None:
    """Counters (with the creators' stored engagement scores), then the rollups. Tables in one fixed
    order for every writer; the platform-wide day row, which every batch touches, comes last so
    that it stays locked for the shortest time (until the commit that follows)."""
    tracks = rollup.tracks()
    if tracks:
        conn.execute(_TRACK_COUNTERS, {"rows": _json(tracks)})
    conn.execute(_CREATOR_COUNTERS, {"rows": _json(rollup.creators()), "as_of": as_of})
    _apply_daily(conn, rollup.creator_days(), _ADD_CREATOR_DAYS, _SUBTRACT_CREATOR_DAYS)
    _apply_daily(conn, rollup.days(), _ADD_DAYS, _SUBTRACT_DAYS)


def _apply_daily(conn: Connection, rows: list[dict[str, Any]], add: TextClause, subtract: TextClause) -> None:
    """The two steps above for one rollup table; rows carry signed deltas."""
    if not any(row[c] < 0 for row in rows for c in SIGNED):  # nearly every batch: nothing undone
        conn.execute(add, {"rows": _json(rows)})
        return
    positive = [{**row, **{c: max(row[c], 0) for c in SIGNED}} for row in rows]
    conn.execute(add, {"rows": _json(positive)})
    negative = [{**row, **{c: min(row[c], 0) for c in SIGNED}} for row in rows if any(row[c] < 0 for c in SIGNED)]
    updated = conn.execute(subtract, {"rows": _json(negative)}).rowcount
    if updated != len(negative):
        raise RollupUnderflow(f"{len(negative) - updated} rollup rows hold less than the batch undoes")
