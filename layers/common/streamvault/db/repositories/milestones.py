"""Milestones: recorded once per creator, type and threshold (the unique key decides)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from streamvault.domain.milestones import Milestone


def record_milestone(
    conn: Connection, creator_id: int, milestone_type: str, threshold: int, value_reached: int,
    reached_at: datetime | None = None,
) -> int | None:
    """Insert the milestone unless it exists; the new row's id, or None when it was already there.

    Safe to run twice or concurrently: the unique key (creator, type, threshold) arbitrates.
    """
    return conn.execute(
        text("""
            INSERT INTO creator_milestones (creator_id, milestone_type, threshold, value_reached, reached_at)
            VALUES (:creator_id, :milestone_type, :threshold, :value_reached, coalesce(:reached_at, now()))
            ON CONFLICT (creator_id, milestone_type, threshold) DO NOTHING
            RETURNING id
        """),
        {"creator_id": creator_id, "milestone_type": milestone_type, "threshold": threshold,
         "value_reached": value_reached, "reached_at": reached_at},
    ).scalar_one_or_none()


def record_many(conn: Connection, creator_milestones: list[tuple[int, Milestone]], reached_at: datetime) -> int:
    """Insert many at once, each unless it exists (the unique key arbitrates between concurrent
    detections); how many were new."""
    if not creator_milestones:
        return 0
    return conn.execute(text("""
        INSERT INTO creator_milestones (creator_id, milestone_type, threshold, value_reached, reached_at)
        SELECT * FROM unnest(CAST(:creators AS bigint[]), CAST(:types AS varchar[]), CAST(:thresholds AS numeric[]),
                             CAST(:values AS numeric[]), CAST(:reached_ats AS timestamptz[]))
        ON CONFLICT (creator_id, milestone_type, threshold) DO NOTHING
    """), {"creators": [c for c, _ in creator_milestones],
           "types": [m.type.value for _, m in creator_milestones],
           "thresholds": [m.threshold for _, m in creator_milestones],
           "values": [m.value_reached for _, m in creator_milestones],
           "reached_ats": [reached_at] * len(creator_milestones)}).rowcount


def set_action_tx(conn: Connection, creator_id: int, milestone_type: str, threshold: int, tx_hash: str) -> None:
    """The on-chain action a milestone triggered (coin creation, revenue sharing)."""
    conn.execute(text("""
        UPDATE creator_milestones SET action_tx_hash = :tx_hash
        WHERE creator_id = :creator_id AND milestone_type = :milestone_type AND threshold = :threshold
    """), {"creator_id": creator_id, "milestone_type": milestone_type, "threshold": threshold, "tx_hash": tx_hash})


def list_milestones(conn: Connection, creator_id: int) -> list[dict]:
    rows = conn.execute(
        text("""
            SELECT milestone_type, threshold, value_reached, reached_at, action_tx_hash
            FROM creator_milestones WHERE creator_id = :creator_id
            ORDER BY reached_at, milestone_type, threshold
        """),
        {"creator_id": creator_id},
    ).mappings()
    return [{**r, "threshold": int(r["threshold"]), "value_reached": int(r["value_reached"])} for r in rows]
