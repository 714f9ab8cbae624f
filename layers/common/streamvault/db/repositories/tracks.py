"""Track reads: a live track of a live creator, with its counters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text


def get_track(conn: Connection, track_id: int) -> dict[str, Any] | None:
    """The track with ``price_attofil`` as integer text and its ``creator`` as {id, name}."""
    row = conn.execute(
        text("""
            SELECT t.id, t.title, t.genre, t.duration_ms, t.released_at, t.price_attofil::text AS price_attofil,
                   t.play_count AS plays, t.like_count AS likes, t.comment_count AS comments,
                   json_build_object('id', c.id, 'name', c.name) AS creator
            FROM tracks t
            JOIN creators c ON c.id = t.creator_id AND c.deleted_at IS NULL
            WHERE t.id = :id AND t.deleted_at IS NULL
        """),
        {"id": track_id},
    ).mappings().one_or_none()
    return None if row is None else dict(row)
