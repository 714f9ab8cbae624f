"""The oracle's operation log: one row per on-chain operation attempt, and its statistics."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

METRICS_SYNC = "UPDATE_METRICS"  # the hourly sync's operation; the others are the milestones'


@dataclass(frozen=True, slots=True)
class OracleLogEntry:
    operation: str
    status: str
    creator_id: int | None = None
    creator_count: int = 1
    batch_id: uuid.UUID | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    gas_used: int | None = None
    attempt: int = 1
    error_class: str | None = None
    error_message: str | None = None
    duration_ms: int | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SyncStats:
    hours: int
    operations: int
    succeeded: int
    failed: int
    success_rate: float | None  # None when there was nothing to sync
    avg_duration_ms: float | None
    last_success_at: datetime | None


def write_oracle_log(conn: Connection, entry: OracleLogEntry) -> int:
    params = asdict(entry)
    params["details"] = None if entry.details is None else json.dumps(entry.details)
    return conn.execute(
        text("""
            INSERT INTO oracle_sync_logs (operation, status, creator_id, creator_count, batch_id, tx_hash,
                block_number, gas_used, attempt, error_class, error_message, duration_ms, details)
            VALUES (:operation, :status, :creator_id, :creator_count, :batch_id, :tx_hash, :block_number,
                :gas_used, :attempt, :error_class, :error_message, :duration_ms, CAST(:details AS jsonb))
            RETURNING id
        """),
        params,
    ).scalar_one()


def sync_stats(conn: Connection, hours: int, as_of: datetime | None = None) -> SyncStats:
    """The seed's getSyncStats: operations, success rate, failures and duration in the window,
    and the last success ever (freshness must not vanish just because the window is quiet)."""
    row = conn.execute(
        text("""
            SELECT count(*) FILTER (WHERE status IN ('SUCCESS', 'FAILED')) AS operations,
                   count(*) FILTER (WHERE status = 'SUCCESS') AS succeeded,
                   count(*) FILTER (WHERE status = 'FAILED') AS failed,
                   avg(duration_ms) FILTER (WHERE status IN ('SUCCESS', 'FAILED')) AS avg_duration_ms,
                   (SELECT max(created_at) FROM oracle_sync_logs
                     WHERE status = 'SUCCESS' AND created_at <= coalesce(CAST(:as_of AS timestamptz), now()))
                       AS last_success_at
            FROM oracle_sync_logs
            WHERE created_at > coalesce(CAST(:as_of AS timestamptz), now()) - make_interval(hours => :hours)
              AND created_at <= coalesce(CAST(:as_of AS timestamptz), now())
        """),
        {"hours": hours, "as_of": as_of},
    ).one()
    return SyncStats(
        hours=hours, operations=row.operations, succeeded=row.succeeded, failed=row.failed,
        success_rate=(row.succeeded / row.operations) if row.operations else None,
        avg_duration_ms=None if row.avg_duration_ms is None else round(float(row.avg_duration_ms), 1),
        last_success_at=row.last_success_at,
    )


def last_success_at(conn: Connection, operation: str) -> datetime | None:
    """When ``operation`` last succeeded, ever."""
    return conn.execute(
        text("SELECT max(created_at) FROM oracle_sync_logs WHERE status = 'SUCCESS' AND operation = :operation"),
        {"operation": operation},
    ).scalar_one()


def recent_logs(
    conn: Connection, limit: int = 50, before_id: int | None = None, status: str | None = None,
    operation: str | None = None, creator_id: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first, keyset-paginated by id (pass the last id seen as ``before_id``)."""
    rows = conn.execute(
        text("""
            SELECT id, operation, status, creator_id, creator_count, batch_id, tx_hash, block_number,
                   gas_used, attempt, error_class, error_message, duration_ms, created_at
            FROM oracle_sync_logs
            WHERE (CAST(:before_id AS bigint) IS NULL OR id < :before_id)
              AND (CAST(:status AS text) IS NULL OR status = :status)
              AND (CAST(:operation AS text) IS NULL OR operation = :operation)
              AND (CAST(:creator_id AS bigint) IS NULL OR creator_id = :creator_id)
            ORDER BY id DESC
            LIMIT :limit
        """),
        {"limit": limit, "before_id": before_id, "status": status, "operation": operation,
         "creator_id": creator_id},
    ).mappings()
    return [dict(r) for r in rows]
