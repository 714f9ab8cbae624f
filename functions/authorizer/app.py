"""API Gateway REST REQUEST authorizer: the ``x-api-key`` header → an IAM policy and a context.

API Gateway caches the answer per key for the authorizer's TTL, so the policy allows every route
of the stage, and the API function checks scopes itself (``streamvault.api.scopes.requires``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from streamvault.api.authorizer import authorize
from streamvault.observability import logger


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    granted = authorize(event.get("headers"))
    if granted is None:
        logger.info("API key refused: missing, unknown or revoked")  # never the key itself
        raise Exception("Unauthorized")  # API Gateway's convention for a 401 (gateway response UNAUTHORIZED)
    logger.info("API key allowed", extra={"key_id": granted["keyId"]})
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=str(granted["keyId"]), region=arn.region, aws_account_id=arn.aws_account_id,
        api_id=arn.api_id, stage=arn.stage, partition=arn.partition, context=granted,
    )
    policy.allow_all_routes()  # arn:…/stage/*/*: the cached answer covers every route
    # The usage plan throttles per key by this value: each key is an API Gateway key whose value
    # is its id (`streamvault keys create` registers it when STREAMVAULT_API_USAGE_PLAN_ID is set).
    return {**policy.asdict(), "usageIdentifierKey": granted["keyId"]}
