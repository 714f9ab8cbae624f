"""The Powertools Tracer (X-Ray), for the functions whose cold start can afford it."""

from aws_lambda_powertools import Tracer

tracer = Tracer(service="streamvault")
