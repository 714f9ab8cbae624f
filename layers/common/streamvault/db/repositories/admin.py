"""Administrators' writes: users, creators, tracks and playlists, and the GDPR erasure of a user.

The generic helpers take table and column names from code (the admin service's entity
descriptions), never from a request; every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, RowMapping, text
from sqlalchemy.exc import IntegrityError

Table = Literal["users", "creators", "tracks", "playlists"]
RowLock = Literal["FOR SHARE", "FOR NO KEY UPDATE"]

# What "still there" means per table: playlists are deleted outright, the others soft-deleted.
_LIVE: dict[Table, str] = {
    "users": "deleted_at IS NULL", "creators": "deleted_at IS NULL", "tracks": "deleted_at IS NULL",
    "playlists": "true",
}

ERASED_COMMENT = "[erased]"


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure changed, by count: no personal data."""

    comments_erased: int
    playlists_deleted: int
    plays_unlinked: int
    creator_id: int | None  # the user's creator account, anonymized too


def violated_constraint(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.orig, "diag", None), "constraint_name", None)


def insert_row(conn: Connection, table: Table, values: Mapping[str, Any], columns: Sequence[str]) -> RowMapping:
    names = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    return conn.execute(
        text(f"INSERT INTO {table} ({names}) VALUES ({params}) RETURNING {', '.join(columns)}"), dict(values)
    ).mappings().one()


def lock_live_row(conn: Connection, table: Table, row_id: int, columns: Sequence[str]) -> RowMapping | None:
    """The row, locked until commit so that the audit's ``before`` is what the update replaces."""
    return conn.execute(
        text(f"SELECT {', '.join(columns)} FROM {table} WHERE id = :id AND {_LIVE[table]} FOR UPDATE"),
        {"id": row_id},
    ).mappings().one_or_none()


def update_row(conn: Connection, table: Table, row_id: int, values: Mapping[str, Any],
               columns: Sequence[str]) -> RowMapping:
    assignments = "".join(f"{name} = :{name}, " for name in values)
    return conn.execute(
        text(f"UPDATE {table} SET {assignments}updated_at = now() WHERE id = :id RETURNING {', '.join(columns)}"),
        {**values, "id": row_id},
    ).mappings().one()


def live_ids(conn: Connection, table: Table, ids: Collection[int], lock: RowLock = "FOR SHARE") -> set[int]:
    """Which of ``ids`` are live rows, locked so that they cannot be deleted before commit.

    A row the transaction will update itself must be taken ``FOR NO KEY UPDATE`` right away: two
    transactions that both share-lock it and then update it deadlock.
    """
    rows = conn.execute(
        text(f"SELECT id FROM {table} WHERE id = ANY(:ids) AND {_LIVE[table]} {lock}"), {"ids": list(ids)}
    ).scalars()
    return set(rows)


def count_sign_up(conn: Connection) -> None:
    """A new account counts in today's ``daily_stats.new_users``, as the seed derives it."""
    conn.execute(text("""
        INSERT INTO daily_stats (day, new_users) VALUES ((now() AT TIME ZONE 'UTC')::date, 1)
        ON CONFLICT (day) DO UPDATE SET new_users = daily_stats.new_users + 1
    """))


def move_creator_counters(conn: Connection, creator_id: int, *, tracks: int, plays: int = 0, likes: int = 0,
                          comments: int = 0) -> None:
    """Add to a creator's counters; ``metrics_changed_at`` moves so the oracle syncs the creator."""
    conn.execute(
        text("""
            UPDATE creators
            SET track_count = track_count + :tracks, play_count = play_count + :plays,
                like_count = like_count + :likes, comment_count = comment_count + :comments,
                metrics_changed_at = now(), updated_at = now()
            WHERE id = :id
        """),
        {"id": creator_id, "tracks": tracks, "plays": plays, "likes": likes, "comments": comments},
    )


def soft_delete_track(conn: Connection, track_id: int) -> None:
    conn.execute(text("UPDATE tracks SET deleted_at = now(), updated_at = now() WHERE id = :id"), {"id": track_id})


def playlist_track_ids(conn: Connection, playlist_id: int) -> list[int]:
    return list(conn.execute(
        text("SELECT track_id FROM playlist_entries WHERE playlist_id = :id ORDER BY position"), {"id": playlist_id}
    ).scalars())


def replace_playlist_tracks(conn: Connection, playlist_id: int, track_ids: Sequence[int]) -> None:
    """Make the entries exactly ``track_ids``, in order, at positions 0..n-1.

    Entries that stay (the n-th occurrence of a track matches its old n-th occurrence) are moved,
    keeping their ``added_at``; the rest are deleted or inserted. Positions may collide mid-way:
    the unique (playlist_id, position) is checked at commit.
    """
    conn.execute(
        text("""
            WITH wanted AS (
                SELECT w.track_id, (w.ordinal - 1)::integer AS position,
                       row_number() OVER (PARTITION BY w.track_id ORDER BY w.ordinal) AS nth
                FROM unnest(CAST(:track_ids AS bigint[])) WITH ORDINALITY AS w(track_id, ordinal)
            ), existing AS (
                SELECT e.id, e.track_id, row_number() OVER (PARTITION BY e.track_id ORDER BY e.position) AS nth
                FROM playlist_entries e WHERE e.playlist_id = :playlist_id
            ), kept AS (
                SELECT e.id, w.position FROM existing e JOIN wanted w USING (track_id, nth)
            ), moved AS (
                UPDATE playlist_entries e SET position = k.position
                FROM kept k WHERE e.id = k.id AND e.position <> k.position
            ), dropped AS (
                DELETE FROM playlist_entries e
                WHERE e.playlist_id = :playlist_id AND e.id NOT IN (SELECT id FROM kept)
            )
            INSERT INTO playlist_entries (playlist_id, track_id, position)
            SELECT :playlist_id, w.track_id, w.position
            FROM wanted w LEFT JOIN existing e USING (track_id, nth)
            WHERE e.id IS NULL
        """),
        {"playlist_id": playlist_id, "track_ids": list(track_ids)},
    )


def erase_user(conn: Connection, user_id: int) -> Erasure:
    """Remove a user's personal data; every interaction row stays, so no counter or rollup moves.

    The account is soft-deleted under a placeholder name; comments keep their rows (they are
    counted) with the body replaced; plays lose their user; playlists (uncounted) are deleted;
    a creator account keeps its tracks and counters under a placeholder name, without bio or
    wallet. Follows and likes stay: they point at an account that no longer says who it was.
    """
    params = {"id": user_id}
    conn.execute(text("""
        UPDATE users SET username = 'erased-' || id, email = NULL, display_name = NULL, country = NULL,
                         deleted_at = now(), updated_at = now()
        WHERE id = :id
    """), params)
    comments = conn.execute(
        text("UPDATE comments SET body = :body WHERE user_id = :id"), {**params, "body": ERASED_COMMENT}
    ).rowcount
    playlists = conn.execute(text("DELETE FROM playlists WHERE owner_id = :id"), params).rowcount
    plays = conn.execute(text("UPDATE plays SET user_id = NULL WHERE user_id = :id"), params).rowcount
    creator_id = conn.execute(text("""
        UPDATE creators SET name = 'erased-creator-' || id, bio = NULL, wallet_ciphertext = NULL,
                            wallet_blind_index = NULL, updated_at = now()
        WHERE user_id = :id
        RETURNING id
    """), params).scalar_one_or_none()
    return Erasure(comments_erased=comments, playlists_deleted=playlists, plays_unlinked=plays,
                   creator_id=creator_id)
