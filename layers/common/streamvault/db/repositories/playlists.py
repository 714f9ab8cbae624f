"""Playlist reads: public playlists of live users, entries in position order.

Entries whose track (or its creator) was deleted are left out rather than shown as holes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

# Entries whose track and creator are live: what a playlist shows, and what its track_count counts.
_LIVE_ENTRIES = """
    playlist_entries e
    JOIN tracks t ON t.id = e.track_id AND t.deleted_at IS NULL
    JOIN creators c ON c.id = t.creator_id AND c.deleted_at IS NULL
"""


def get_public_playlist(conn: Connection, playlist_id: int) -> dict[str, Any] | None:
    """The playlist with its ``owner`` as {id, username, display_name}; None unless it is public
    and its owner's account is live."""
    row = conn.execute(
        text("""
            SELECT p.id, p.name, p.description, p.created_at, p.updated_at,
                   json_build_object('id', u.id, 'username', u.username, 'display_name', u.display_name) AS owner
            FROM playlists p
            JOIN users u ON u.id = p.owner_id AND u.deleted_at IS NULL
            WHERE p.id = :id AND p.is_public
        """),
        {"id": playlist_id},
    ).mappings().one_or_none()
    return None if row is None else dict(row)


def playlist_entries(conn: Connection, playlist_id: int) -> list[dict[str, Any]]:
    """Position, added_at and the ``track`` as {id, title, duration_ms, creator: {id, name}}."""
    rows = conn.execute(
        text(f"""
            SELECT e.position, e.added_at,
                   json_build_object('id', t.id, 'title', t.title, 'duration_ms', t.duration_ms,
                                     'creator', json_build_object('id', c.id, 'name', c.name)) AS track
            FROM {_LIVE_ENTRIES}
            WHERE e.playlist_id = :id
            ORDER BY e.position
        """),
        {"id": playlist_id},
    ).mappings()
    return [dict(r) for r in rows]


def get_live_user(conn: Connection, user_id: int) -> dict[str, Any] | None:
    """The public face of an account (never its email): id, username, display_name."""
    row = conn.execute(
        text("SELECT id, username, display_name FROM users WHERE id = :id AND deleted_at IS NULL"), {"id": user_id}
    ).mappings().one_or_none()
    return None if row is None else dict(row)


def public_playlists_of(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's public playlists, newest first, with how many (live) tracks each shows."""
    rows = conn.execute(
        text(f"""
            SELECT p.id, p.name, p.description, p.created_at, p.updated_at,
                   (SELECT count(*) FROM {_LIVE_ENTRIES} WHERE e.playlist_id = p.id) AS track_count
            FROM playlists p
            WHERE p.owner_id = :user_id AND p.is_public
            ORDER BY p.created_at DESC, p.id DESC
        """),
        {"user_id": user_id},
    ).mappings()
    return [dict(r) for r in rows]
