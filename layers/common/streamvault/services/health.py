"""System health: database round trip, the age of the last successful oracle sync, queue depths."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from streamvault.config import get_settings
from streamvault.db.engine import health_check
from streamvault.db.repositories.oracle_logs import METRICS_SYNC, last_success_at
from streamvault.services.database import api_read
from streamvault.sqs import QueueDepth, new_client, read_queue_depths


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
    queues: dict[str, QueueDepth] = Field(
        default_factory=dict,
        description="per queue whose depth is known: SQS's approximate counts, re-read at most every 15 s by default",
    )


def get_health() -> HealthOut:
    db = health_check()
    last_success = None
    if db["ok"]:
        with api_read() as conn:
            last_success = last_success_at(conn, METRICS_SYNC)
    age = None if last_success is None else round((datetime.now(UTC) - last_success).total_seconds(), 1)
    return HealthOut(
        status="ok" if db["ok"] else "degraded",
        database=DatabaseHealth(**{k: v for k, v in db.items() if k in DatabaseHealth.model_fields}),
        last_successful_sync_at=last_success,
        last_successful_sync_age_s=age,
        queues=queue_depths(),
    )


# The health route is open (no key): the depths are read from SQS at most once per
# health_queue_max_age_s per container, however often it is called.
_depths_read: tuple[float, dict[str, str], dict[str, QueueDepth]] | None = None  # when, of which queues, what
_client: Any = None


def queue_depths() -> dict[str, QueueDepth]:
    global _depths_read, _client
    settings = get_settings()
    urls = settings.health_queue_urls
    if not urls:
        return {}
    now = time.monotonic()
    if _depths_read is None or _depths_read[1] != urls or now - _depths_read[0] >= settings.health_queue_max_age_s:
        if _client is None:
            # one attempt, short timeouts: a health check must answer well within the function's 10 s
            _client = new_client(connect_timeout_s=1, read_timeout_s=2, max_attempts=1)
        _depths_read = (now, urls, read_queue_depths(_client, urls))
    return _depths_read[2]


def reset_queue_depths() -> None:
    """Forget the SQS client and the last depths read (tests, settings changes)."""
    global _depths_read, _client
    _depths_read = _client = None
