"""The oracle sync's "run done" announcement, which triggers milestone detection.

AWS: one EventBridge event (source ``streamvault.oracle``, detail-type ``OracleSyncCompleted``,
detail ``{"run_id"}``) on ``STREAMVAULT_EVENTS_BUS_NAME``; a rule routes it to the milestones
function. Without a bus (``make run``, the CLI) nothing is sent: the local stack calls detection
itself after each run.
"""

from __future__ import annotations

import json

from streamvault.config import Settings
from streamvault.observability import logger

SOURCE = "streamvault.oracle"
DETAIL_TYPE = "OracleSyncCompleted"


def announce_sync_done(settings: Settings, run_id: int) -> None:
    if not settings.events_bus_name:
        return
    import boto3

    try:
        boto3.client("events", region_name=settings.aws_region).put_events(Entries=[{
            "Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps({"run_id": run_id}),
            "EventBusName": settings.events_bus_name}])
    except Exception as exc:  # the sync itself succeeded; the daily detection catches a lost event
        logger.warning("sync-done event not sent", extra={"run_id": run_id, "error": str(exc)[:300]})
