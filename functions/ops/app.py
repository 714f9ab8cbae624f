"""The ops Lambda: database migrations on deploy, and the daily maintenance.

- CloudFormation custom resource (through the CDK Provider framework, which answers
  CloudFormation): Create/Update run Alembic to head; Delete does nothing (the data outlives
  the stack). The resource's properties carry a hash of the migrations, so a deploy that adds
  one is an Update and runs it.
- EventBridge, daily: ``{"task": "maintain_partitions"}`` creates the months of ``plays``
  ahead of time and refreshes the stored engagement scores whose 90-day window moved
  (``streamvault.services.maintenance``, also ``streamvault db maintain``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from streamvault.db import migrate
from streamvault.observability import logger
from streamvault.services.maintenance import maintain


def _migrate(event: dict[str, Any]) -> dict[str, Any]:
    revision = ""
    if event["RequestType"] != "Delete":  # the schema and its data outlive the stack
        migrate.upgrade()
        revision = migrate.current_revision() or ""
    logger.info("migrations", extra={"request": event["RequestType"], "revision": revision})
    return {"PhysicalResourceId": "streamvault-schema", "Data": {"Revision": revision}}


def _maintain() -> dict[str, Any]:
    done = maintain()
    logger.info("database maintained", extra=done)  # not "created": that is a LogRecord field
    return done


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "RequestType" in event:
        return _migrate(event)
    if event.get("task") == "maintain_partitions":
        return _maintain()
    raise ValueError(f"unknown ops event: {sorted(event)}")
