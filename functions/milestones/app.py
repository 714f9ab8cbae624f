"""The milestones Lambda: three EventBridge triggers.

- ``OracleSyncCompleted`` (source ``streamvault.oracle``, detail ``{"run_id"}``), sent by the
  oracle sync after a run with confirmed updates: detection for that run's creators, then actions;
- the daily schedule, input ``{"task": "daily"}``: detection for every creator, then actions;
- the quarterly schedule, input ``{"task": "quarterly"}``: the quarter that just ended is distributed.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from streamvault.domain.milestones import Quarter
from streamvault.observability import logger, metrics
from streamvault.services.milestones import after_sync, build_milestone_runtime, daily, distribute
from streamvault.services.sync_events import DETAIL_TYPE, SOURCE
from streamvault.tracing import tracer

# Built once per container (RPC client, signer: the KMS public key is fetched once).
runtime = cache(build_milestone_runtime)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("source") == SOURCE and event.get("detail-type") == DETAIL_TYPE:
        detection, actions = after_sync(runtime(), int(event["detail"]["run_id"]))
        return {"detection": asdict(detection), "actions": asdict(actions)}
    task = event.get("task")
    if task == "daily":
        detection, actions = daily(runtime())
        return {"detection": asdict(detection), "actions": asdict(actions)}
    if task == "quarterly":
        return asdict(distribute(runtime(), Quarter.containing(datetime.now(UTC)).previous()))
    raise ValueError(f"unknown milestones trigger: {sorted(event)}")
