"""API Gateway (REST): the Lambda REQUEST authorizer on ``x-api-key``, throttling, access logs,
CORS, and gateway responses in the project's error shape.

Routes: ``/v1/health``, ``/v1/docs`` and ``/v1/openapi.json`` are open; ``POST /v1/events`` goes
to the ingest function; everything else under ``/v1`` to the API function (its resolver answers
404/405 in the error shape). Both functions check the key's scopes themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig

API_KEY_HEADER = "x-api-key"
OPEN_PATHS = ("health", "docs", "openapi.json")
# A revoked key keeps working at most this long (the authorizer's answer is cached per key).
AUTHORIZER_CACHE_TTL = Duration.minutes(1)
# The usage plan's per-key limits: the defaults of STREAMVAULT_API_RATE_LIMIT_PER_S / _API_BURST
# (a test holds them equal); those variables themselves set only the local server's limits.
PER_KEY_RATE_PER_S = 50
PER_KEY_BURST = 100
ALLOWED_HEADERS = ["Content-Type", API_KEY_HEADER, "If-None-Match"]


@dataclass(frozen=True)
class GatewayError:
    code: str
    status: str | None = None  # None: keep the status API Gateway chose (the DEFAULT_* families)
    message: str | None = None  # None: API Gateway's own message


# What API Gateway answers itself, before (or instead of) a function: same shape as the functions'.
GATEWAY_RESPONSES = {
    apigw.ResponseType.UNAUTHORIZED: GatewayError("unauthorized", "401"),
    # A key revoked (disabled in the usage plan) while the authorizer's cached answer still allows it:
    # API Gateway refuses it itself with 403 "Forbidden"; the contract for a wrong key is 401.
    apigw.ResponseType.INVALID_API_KEY: GatewayError("unauthorized", "401", "Unauthorized"),
    apigw.ResponseType.ACCESS_DENIED: GatewayError("forbidden", "403"),
    apigw.ResponseType.THROTTLED: GatewayError("too_many_requests", "429"),
    apigw.ResponseType.QUOTA_EXCEEDED: GatewayError("too_many_requests", "429"),
    apigw.ResponseType.REQUEST_TOO_LARGE: GatewayError("payload_too_large", "413"),
    apigw.ResponseType.INTEGRATION_TIMEOUT: GatewayError("timeout", "504"),
    apigw.ResponseType.DEFAULT_4_XX: GatewayError("request_refused"),
    apigw.ResponseType.DEFAULT_5_XX: GatewayError("gateway_error"),
}
ERROR_TEMPLATE = '{"error": {"code": "%s", "message": %s, "details": null}}'


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, api_fn: lambda_.IFunction,
                 ingest_fn: lambda_.IFunction, authorizer_fn: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.rest_api = apigw.RestApi(
            self, "RestApi", rest_api_name=f"streamvault-{config.stage}", cloud_watch_role=True,
            # Usage plans look the key up from the authorizer's answer, not from API Gateway's own keys.
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            deploy_options=self._stage_options(config),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=apigw.Cors.ALL_ORIGINS,  # keys travel in a header, never in cookies
                allow_methods=apigw.Cors.ALL_METHODS, allow_headers=ALLOWED_HEADERS, max_age=Duration.hours(1),
            ),
        )
        self.authorizer = apigw.RequestAuthorizer(
            self, "KeyAuthorizer", handler=authorizer_fn, results_cache_ttl=AUTHORIZER_CACHE_TTL,
            identity_sources=[apigw.IdentitySource.header(API_KEY_HEADER)],
        )
        self._routes(api_fn, ingest_fn)
        self._gateway_responses()
        self.usage_plan = self.rest_api.add_usage_plan(
            "PerKeyPlan", name=f"streamvault-{config.stage}-default",
            throttle=apigw.ThrottleSettings(rate_limit=PER_KEY_RATE_PER_S, burst_limit=PER_KEY_BURST),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=self.rest_api.deployment_stage)],
        )

    def _stage_options(self, config: StageConfig) -> apigw.StageOptions:
        return apigw.StageOptions(
            stage_name=config.stage, tracing_enabled=True, metrics_enabled=True,
            logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,  # bodies carry personal data
            throttling_rate_limit=config.api_stage_rate_per_s, throttling_burst_limit=config.api_stage_burst,
            access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
            # No ip: raw client IPs never reach logs or storage (ingestion keeps a /24 or /48 prefix only).
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=False, http_method=True, ip=False, protocol=True, request_time=True, resource_path=True,
                response_length=True, status=True, user=False,
            ),
        )

    def _routes(self, api_fn: lambda_.IFunction, ingest_fn: lambda_.IFunction) -> None:
        v1 = self.rest_api.root.add_resource("v1")
        api = apigw.LambdaIntegration(api_fn)
        for path in OPEN_PATHS:
            v1.add_resource(path).add_method("GET", api, authorization_type=apigw.AuthorizationType.NONE)
        # api_key_required: the usage plan's per-key throttle applies to these methods, by the key
        # the authorizer names (usageIdentifierKey)
        keyed = {"authorizer": self.authorizer, "authorization_type": apigw.AuthorizationType.CUSTOM,
                 "api_key_required": True}
        v1.add_resource("events").add_method("POST", apigw.LambdaIntegration(ingest_fn), **keyed)
        v1.add_proxy(default_integration=api, any_method=False).add_method("ANY", api, **keyed)

    def _gateway_responses(self) -> None:
        cors = {"Access-Control-Allow-Origin": "'*'", "Access-Control-Allow-Headers": f"'{','.join(ALLOWED_HEADERS)}'"}
        for response_type, error in GATEWAY_RESPONSES.items():
            message = json.dumps(error.message) if error.message else "$context.error.messageString"
            self.rest_api.add_gateway_response(
                f"Response{response_type.response_type.title().replace('_', '')}",
                type=response_type, status_code=error.status, response_headers=cors,
                templates={"application/json": ERROR_TEMPLATE % (error.code, message)},
            )
