"""Administrator routes (scope ``admin``): every change is written to the audit log."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

router = APIGatewayRouter()
