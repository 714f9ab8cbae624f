"""SQS for the functions: clients (the regional endpoint in AWS, moto's server locally) and queue depths.

boto3 is imported on first use only: the request paths that never touch SQS don't pay its import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from streamvault.config import get_settings
from streamvault.observability import logger


class QueueDepth(BaseModel):
    """SQS's approximate counts (they lag by up to a minute)."""

    waiting: int  # ready to be received
    in_flight: int  # received by a consumer, not yet deleted
    delayed: int  # sent with a delay (scheduled retries) that is not over yet


_DEPTH_ATTRIBUTES = {
    "waiting": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


def new_client(*, connect_timeout_s: float, read_timeout_s: float, max_attempts: int) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(connect_timeout=connect_timeout_s, read_timeout=read_timeout_s,
                    retries={"mode": "standard", "max_attempts": max_attempts})
    # Stage local talks to moto (make run, tests), which takes any credentials.
    local = {"aws_access_key_id": "local", "aws_secret_access_key": "local"} if settings.stage == "local" else {}
    return boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.sqs_endpoint_url,
                        config=config, **local)


def read_queue_depths(client: Any, queue_urls: Mapping[str, str]) -> dict[str, QueueDepth]:
    """The depth of each named queue SQS answers for. The first failure ends the reading (the
    queues share one endpoint: the rest would fail alike, each after its own timeout); what
    could not be read is left out and logged."""
    from botocore.exceptions import BotoCoreError, ClientError

    depths: dict[str, QueueDepth] = {}
    for name, url in queue_urls.items():
        try:
            attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=list(_DEPTH_ATTRIBUTES.values()))
        except (BotoCoreError, ClientError) as exc:
            logger.warning("queue depth unavailable", extra={"queue": name, "error": type(exc).__name__})
            break
        counts = attributes["Attributes"]
        depths[name] = QueueDepth(**{field: int(counts[attr]) for field, attr in _DEPTH_ATTRIBUTES.items()})
    return depths
