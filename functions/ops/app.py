"""The ops Lambda: database migrations on deploy, and the daily partition maintenance.

- CloudFormation custom resource (through the CDK Provider framework, which answers
  CloudFormation): Create/Update run Alembic to head; Delete does nothing (the data outlives
  the stack). The resource's properties carry a hash of the migrations, so a deploy that adds
  one is an Update and runs it.
- EventBridge, daily: ``{"task": "maintain_partitions"}`` creates the months of ``plays``
  ahead of time (``streamvault db maintain``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from streamvault.db import migrate
from streamvault.db.engine import transaction
from streamvault.db.repositories.monitoring import ensure_play_partitions
from streamvault.observability import logger

MONTHS_AHEAD = 3
MAINTENANCE_TIMEOUT_MS = 300_000  # moving rows out of the default partition is a long statement


def _migrate(event: dict[str, Any]) -> dict[str, Any]:
    revision = ""
    if event["RequestType"] != "Delete":  # the schema and its data outlive the stack
        migrate.upgrade()
        revision = migrate.current_revision() or ""
    logger.info("migrations", extra={"request": event["RequestType"], "revision": revision})
    return {"PhysicalResourceId": "streamvault-schema", "Data": {"Revision": revision}}


def _maintain() -> dict[str, Any]:
    with transaction(statement_timeout_ms=MAINTENANCE_TIMEOUT_MS) as conn:
        created = ensure_play_partitions(conn, months_ahead=MONTHS_AHEAD)
    logger.info("partitions maintained", extra={"partitions_created": created})  # "created" is a LogRecord field
    return {"created": created}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "RequestType" in event:
        return _migrate(event)
    if event.get("task") == "maintain_partitions":
        return _maintain()
    raise ValueError(f"unknown ops event: {sorted(event)}")
