"""Powertools singletons shared by every function: one Logger and one Metrics namespace.

The Tracer lives in ``streamvault.tracing``: it imports the X-Ray SDK and botocore (~150 ms of
cold start), so latency-critical functions (api, authorizer) leave it out and rely on Lambda's
active tracing for their segments.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics

NAMESPACE = "StreamVault"

logger = Logger(service="streamvault")
metrics = Metrics(namespace=NAMESPACE, service="streamvault")


def correlate_api_request(event: dict[str, Any]) -> None:
    """The API Gateway request id as the logs' correlation id: what ``inject_lambda_context``'s
    ``correlation_id_path=API_GATEWAY_REST`` does, without its JMESPath search per request,
    whose interpreter leaves reference cycles behind: the garbage collector then pauses a
    request every hundred or so, which showed in the API's p99."""
    logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
