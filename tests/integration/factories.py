"""Minimal rows for integration tests, written with plain SQL."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, text


def make_user(conn: Connection, username: str | None = None) -> int:
    return conn.execute(
        text("INSERT INTO users (username, email) VALUES (:u, :email) RETURNING id"),
        {"u": (name := username or f"user_{uuid.uuid4().hex[:10]}"), "email": f"{name}@example.test"},
    ).scalar_one()


def make_creator(conn: Connection, *, plays: int = 0, followers: int = 0, likes: int = 0, comments: int = 0,
                 verified: bool = False, wallet: bool = False, market_cap: int | None = None) -> int:
    user_id = make_user(conn)
    return conn.execute(
        text("""
            INSERT INTO creators (user_id, name, play_count, follower_count, like_count, comment_count, verified,
                                  wallet_ciphertext, wallet_blind_index, market_cap_attofil)
            VALUES (:user_id, :name, :plays, :followers, :likes, :comments, :verified,
                    :wallet_ciphertext, :wallet_blind_index, :market_cap)
            RETURNING id
        """),
        {"user_id": user_id, "plays": plays, "followers": followers, "likes": likes, "comments": comments,
         "verified": verified, "market_cap": market_cap, "name": f"Creator {user_id}",
         # stand-ins: the wallet service writes real ciphertext and blind indexes
         "wallet_ciphertext": b"\x01" if wallet else None,
         "wallet_blind_index": user_id.to_bytes(8, "big") if wallet else None},
    ).scalar_one()


def make_track(conn: Connection, creator_id: int, released_at: datetime, deleted: bool = False) -> int:
    return conn.execute(
        text("""
            INSERT INTO tracks (creator_id, title, duration_ms, released_at, deleted_at)
            VALUES (:c, 'Track', 180000, :released_at, CASE WHEN :deleted THEN now() END) RETURNING id
        """),
        {"c": creator_id, "released_at": released_at, "deleted": deleted},
    ).scalar_one()


def make_play(conn: Connection, track_id: int, creator_id: int, played_at: datetime,
              event_id: uuid.UUID | None = None) -> uuid.UUID:
    event_id = event_id or uuid.uuid4()
    conn.execute(
        text("INSERT INTO ingested_events (event_id, event_type, occurred_at) VALUES (:e, 'play', :t)"),
        {"e": event_id, "t": played_at},
    )
    conn.execute(
        text("""
            INSERT INTO plays (event_id, played_at, track_id, creator_id, duration_ms)
            VALUES (:e, :t, :track, :creator, 1000)
        """),
        {"e": event_id, "t": played_at, "track": track_id, "creator": creator_id},
    )
    return event_id
