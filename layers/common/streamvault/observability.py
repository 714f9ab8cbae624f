"""Powertools singletons shared by every function: one Logger, Tracer and Metrics namespace."""

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "StreamVault"

logger = Logger(service="streamvault")
tracer = Tracer(service="streamvault")
metrics = Metrics(namespace=NAMESPACE, service="streamvault")
