"""Quarterly revenue distributions: the quarter's revenue per creator, and one row per
(creator, quarter) that the unique key keeps from ever being paid twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text


@dataclass(frozen=True, slots=True)
class SharingCreator:
    creator_id: int
    coin_address: str
    revenue_attofil: int  # sales + tips received in the quarter


def sharing_creators(conn: Connection, quarter: str, start: datetime, end: datetime) -> list[SharingCreator]:
    """Creators with sharing enabled and no distribution for the quarter yet but a failed one,
    with the quarter's sales and tips (raw events: exact to the instant, whatever the rollups' days)."""
    rows = conn.execute(text("""
        SELECT c.id, c.coin_address, coalesce(sum(r.amount_attofil), 0) AS revenue
        FROM creators c
        LEFT JOIN revenue_events r ON r.creator_id = c.id AND r.occurred_at >= :start AND r.occurred_at < :end
        WHERE c.deleted_at IS NULL AND c.revenue_sharing_enabled AND c.coin_address IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM revenue_distributions d
                          WHERE d.creator_id = c.id AND d.quarter = :quarter AND d.status <> 'FAILED')
        GROUP BY c.id, c.coin_address
        ORDER BY c.id
    """), {"quarter": quarter, "start": start, "end": end}).all()
    return [SharingCreator(r.id, r.coin_address, int(r.revenue)) for r in rows]


def reopen_failed(conn: Connection, creator_id: int, quarter: str) -> int | None:
    """Clear the quarter's failed distribution of the creator, so that it is tried again; the
    failed deposit's transaction id (its attempt stays in chain_transactions and the oracle log)."""
    return conn.execute(text("""
        DELETE FROM revenue_distributions WHERE creator_id = :creator_id AND quarter = :quarter AND status = 'FAILED'
        RETURNING transaction_id
    """), {"creator_id": creator_id, "quarter": quarter}).scalar_one_or_none()


def insert_distribution(conn: Connection, creator_id: int, quarter: str, revenue: int, share: int,
                        snapshot_block: int) -> int | None:
    """The new row's id, or None when the quarter already has one for this creator."""
    return conn.execute(text("""
        INSERT INTO revenue_distributions (creator_id, quarter, revenue_attofil, holders_share_attofil,
                                           snapshot_block)
        VALUES (:creator_id, :quarter, :revenue, :share, :snapshot_block)
        ON CONFLICT (creator_id, quarter) DO NOTHING
        RETURNING id
    """), {"creator_id": creator_id, "quarter": quarter, "revenue": revenue, "share": share,
           "snapshot_block": snapshot_block}).scalar_one_or_none()


def attach_transaction(conn: Connection, distribution_id: int, transaction_id: int) -> None:
    conn.execute(text("""
        UPDATE revenue_distributions SET transaction_id = :tx_id, status = 'SENT', updated_at = now() WHERE id = :id
    """), {"id": distribution_id, "tx_id": transaction_id})


def finish_distribution(conn: Connection, transaction_id: int, status: str, tx_hash: str | None) -> int | None:
    """Confirmed or failed, from the deposit's outcome; the creator id."""
    return conn.execute(text("""
        UPDATE revenue_distributions SET status = :status, tx_hash = :tx_hash, updated_at = now()
        WHERE transaction_id = :tx_id
        RETURNING creator_id
    """), {"tx_id": transaction_id, "status": status, "tx_hash": tx_hash}).scalar_one_or_none()


def distributions_of(conn: Connection, quarter: str) -> list[dict]:
    rows = conn.execute(text("""
        SELECT creator_id, quarter, revenue_attofil, holders_share_attofil, snapshot_block, status, tx_hash
        FROM revenue_distributions WHERE quarter = :quarter ORDER BY creator_id
    """), {"quarter": quarter}).mappings()
    return [{**r, "revenue_attofil": int(r["revenue_attofil"]),
             "holders_share_attofil": int(r["holders_share_attofil"])} for r in rows]
