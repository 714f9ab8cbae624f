"""Powertools singletons shared by every function: one Logger and one Metrics namespace.

The Tracer lives in ``streamvault.tracing``: it imports the X-Ray SDK and botocore (~150 ms of
cold start), so latency-critical functions (api, authorizer) leave it out and rely on Lambda's
active tracing for their segments.
"""

from aws_lambda_powertools import Logger, Metrics

NAMESPACE = "StreamVault"

logger = Logger(service="streamvault")
metrics = Metrics(namespace=NAMESPACE, service="streamvault")
