"""System health: database round trip, the age of the last successful oracle sync, queue depths."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from streamvault.db.engine import health_check
from streamvault.db.repositories.oracle_logs import sync_stats
from streamvault.services.database import api_read


class DatabaseHealth(BaseModel):
    ok: bool
    latency_ms: float
    server_version: str | None = None
    error: str | None = None


class HealthOut(BaseModel):
    status: str  # "ok" or "degraded"
    database: DatabaseHealth
    last_successful_sync_at: datetime | None
    last_successful_sync_age_s: float | None
    queues: dict[str, int] = Field(
        default_factory=dict, description="messages waiting per queue, for the queues whose depth is known"
    )


def get_health() -> HealthOut:
    db = health_check()
    last_success = None
    if db["ok"]:
        with api_read() as conn:
            last_success = sync_stats(conn, hours=1).last_success_at
    age = None if last_success is None else round((datetime.now(UTC) - last_success).total_seconds(), 1)
    return HealthOut(
        status="ok" if db["ok"] else "degraded",
        database=DatabaseHealth(**{k: v for k, v in db.items() if k in DatabaseHealth.model_fields}),
        last_successful_sync_at=last_success,
        last_successful_sync_age_s=age,
    )
