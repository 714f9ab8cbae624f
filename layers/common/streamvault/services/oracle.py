"""The oracle's record, for operators: sync statistics over a window, and the operation log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from streamvault.api.pagination import KeysetCursor, Page, RowId, page_of
from streamvault.db.repositories.oracle_logs import recent_logs, sync_stats
from streamvault.services.database import api_read

# The values of models.ORACLE_OPERATIONS and ORACLE_STATUSES, spelled out (a test holds them
# equal): importing the ORM models would add about 120 ms to the API's cold start.
OracleOperation = Literal["UPDATE_METRICS", "CREATE_COIN", "ENABLE_REVENUE_SHARE", "DISTRIBUTE_REVENUE"]
OracleStatus = Literal["PENDING", "SUCCESS", "FAILED", "RETRYING"]

_CURSOR = KeysetCursor("oracle_logs", tuple[RowId])


class SyncStatsOut(BaseModel):
    hours: int
    operations: int = Field(description="finished operations (succeeded or failed) in the window")
    succeeded: int
    failed: int
    success_rate: float | None = Field(description="succeeded / operations; null when there were none")
    avg_duration_ms: float | None
    last_success_at: datetime | None = Field(description="the last success ever, even before the window")


class OracleLogOut(BaseModel):
    id: int
    operation: OracleOperation
    status: OracleStatus
    creator_id: int | None
    creator_count: int
    batch_id: uuid.UUID | None
    tx_hash: str | None
    block_number: int | None
    gas_used: int | None
    attempt: int
    error_class: str | None
    error_message: str | None
    duration_ms: int | None
    created_at: datetime


class OracleLogPage(Page[OracleLogOut]):
    pass


def oracle_sync_stats(hours: int) -> SyncStatsOut:
    with api_read(analytics=True) as conn:
        stats = sync_stats(conn, hours=hours)
    return SyncStatsOut.model_validate(stats, from_attributes=True)


def oracle_logs(limit: int, cursor: str | None, status: OracleStatus | None, operation: OracleOperation | None,
                creator_id: int | None) -> OracleLogPage:
    """Newest first."""
    before_id = None if cursor is None else _CURSOR.decode(cursor)[0]
    with api_read(analytics=True) as conn:
        rows = recent_logs(conn, limit=limit + 1, before_id=before_id, status=status, operation=operation,
                           creator_id=creator_id)
    page, last = page_of(rows, limit)
    return OracleLogPage(
        items=[OracleLogOut.model_validate(r) for r in page],
        next_cursor=None if last is None else _CURSOR.encode((last["id"],)),
    )
