"""plays: monthly partitions made ahead of time, a DEFAULT partition for the rest, and the move."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.integration.factories import make_creator, make_play, make_track


def _partition_of(conn, event_id: uuid.UUID) -> str:
    return conn.execute(
        text("SELECT tableoid::regclass::text FROM plays WHERE event_id = :e"), {"e": event_id}
    ).scalar_one()


def test_plays_route_to_their_month_and_stray_rows_move_when_the_month_is_created(engine):
    far_future = datetime(2031, 3, 15, 10, 0, tzinfo=UTC)
    with engine.begin() as conn:
        cid = make_creator(conn)
        tid = make_track(conn, cid, datetime(2026, 1, 1, tzinfo=UTC))
        recent = make_play(conn, tid, cid, datetime.now(UTC))
        stray = make_play(conn, tid, cid, far_future)

        assert _partition_of(conn, recent) == "plays_" + datetime.now(UTC).strftime("%Y_%m")
        assert _partition_of(conn, stray) == "plays_default"

        created = conn.execute(
            text("SELECT streamvault_ensure_play_partitions(0, 1, :anchor)"), {"anchor": far_future}
        ).scalar_one()
        assert created == 2
        assert _partition_of(conn, stray) == "plays_2031_03"
        assert conn.execute(text("SELECT count(*) FROM plays_default")).scalar_one() == 0
        # running it again creates nothing
        assert conn.execute(
            text("SELECT streamvault_ensure_play_partitions(0, 1, :anchor)"), {"anchor": far_future}
        ).scalar_one() == 0


def test_partitions_exist_ahead_of_time(engine):
    with engine.connect() as conn:
        names = set(conn.execute(text("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'plays'::regclass
        """)).scalars())
    now = datetime.now(UTC)
    ahead = [(now.year + (now.month - 1 + k) // 12, (now.month - 1 + k) % 12 + 1) for k in range(4)]
    assert {f"plays_{y}_{m:02d}" for y, m in ahead} <= names


def test_one_play_per_event_id_even_with_another_timestamp(engine):
    with engine.begin() as conn:
        cid = make_creator(conn)
        tid = make_track(conn, cid, datetime(2026, 1, 1, tzinfo=UTC))
        event_id = make_play(conn, tid, cid, datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        # same event id, another month: the event ledger's primary key refuses it
        make_play(conn, tid, cid, datetime(2026, 10, 1, tzinfo=UTC), event_id=event_id)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        # a play whose (event_id, played_at) is not in the ledger is refused by the foreign key
        conn.execute(text("""
            INSERT INTO plays (event_id, played_at, track_id, creator_id, duration_ms)
            VALUES (:e, '2026-10-01T00:00:00Z', :t, :c, 1)
        """), {"e": event_id, "t": tid, "c": cid})
