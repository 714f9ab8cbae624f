"""API Gateway: authorizer, open routes, throttling, access logs, CORS, gateway responses."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match
from streamvault.config import Settings

from infra.components.api import PER_KEY_BURST, PER_KEY_RATE_PER_S
from tests.infra.conftest import Synth


def _methods(synth: Synth) -> dict[tuple[str, str], dict]:
    resources = synth.template.find_resources("AWS::ApiGateway::Resource")
    paths = {logical: r["Properties"]["PathPart"] for logical, r in resources.items()}
    methods = synth.template.find_resources("AWS::ApiGateway::Method")
    out = {}
    for method in methods.values():
        props = method["Properties"]
        ref = props["ResourceId"].get("Ref")
        out[(paths.get(ref, "/"), props["HttpMethod"])] = props
    return out


def test_request_authorizer_on_the_api_key_header_with_a_short_cache(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::ApiGateway::Authorizer", {
        "Type": "REQUEST", "IdentitySource": "method.request.header.x-api-key",
        "AuthorizerResultTtlInSeconds": 60,
    })
    dev.template.has_resource_properties("AWS::ApiGateway::RestApi", {"ApiKeySourceType": "AUTHORIZER"})


def test_open_routes_and_keyed_routes(dev: Synth) -> None:
    methods = _methods(dev)
    for path in ("health", "docs", "openapi.json"):
        assert methods[(path, "GET")]["AuthorizationType"] == "NONE"
    for keyed in (("events", "POST"), ("{proxy+}", "ANY")):
        assert methods[keyed]["AuthorizationType"] == "CUSTOM"
        # the usage plan's per-key throttle applies (by the authorizer's usageIdentifierKey)
        assert methods[keyed]["ApiKeyRequired"] is True
    for path in ("health", "docs", "openapi.json"):
        assert not methods[(path, "GET")].get("ApiKeyRequired", False)


def test_cors_preflight_allows_the_key_header(dev: Synth) -> None:
    options = [m for (_, verb), m in _methods(dev).items() if verb == "OPTIONS"]
    assert options
    for method in options:
        assert method["AuthorizationType"] == "NONE"
        headers = method["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert "x-api-key" in headers["method.response.header.Access-Control-Allow-Headers"]


def test_usage_plan_and_stage_throttling(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::ApiGateway::UsagePlan", {
        "Throttle": {"RateLimit": 50, "BurstLimit": 100},
    })
    dev.template.has_output("ApiUsagePlanId", {"Value": Match.any_value()})  # for `streamvault keys`
    dev.template.has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "dev", "TracingEnabled": True,
        "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
        "MethodSettings": [Match.object_like({
            "ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200, "DataTraceEnabled": False,
        })],
    })


def test_access_logs_record_no_client_ip(dev: Synth, prod: Synth) -> None:
    # raw IPs never reach logs or storage (ingestion keeps a /24 or /48 prefix only)
    for synth in (dev, prod):
        for stage in synth.template.find_resources("AWS::ApiGateway::Stage").values():
            log_format = stage["Properties"]["AccessLogSetting"]["Format"]
            assert "requestId" in log_format
            assert "$context.identity.sourceIp" not in log_format


def test_per_key_limits_are_the_runtime_settings_defaults() -> None:
    # README: the usage plan's per-key limits equal STREAMVAULT_API_RATE_LIMIT_PER_S / _API_BURST's defaults.
    fields = Settings.model_fields
    defaults = (fields["api_rate_limit_per_s"].default, fields["api_burst"].default)
    assert defaults == (PER_KEY_RATE_PER_S, PER_KEY_BURST)


def test_gateway_responses_use_the_project_error_shape(dev: Synth) -> None:
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in dev.template.find_resources("AWS::ApiGateway::GatewayResponse").values()}
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    unauthorized = responses["UNAUTHORIZED"]
    assert unauthorized["StatusCode"] == "401"
    body = unauthorized["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"m"')
    assert json.loads(body) == {"error": {"code": "unauthorized", "message": "m", "details": None}}
    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert "StatusCode" not in responses["DEFAULT_4XX"]  # keeps API Gateway's own status
    assert responses["DEFAULT_5XX"]["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


def test_a_revoked_key_refused_by_api_gateway_answers_401_unauthorized(dev: Synth) -> None:
    # A disabled key the authorizer's cached answer still allows: API Gateway's INVALID_API_KEY (403 by default).
    (invalid,) = dev.template.find_resources("AWS::ApiGateway::GatewayResponse", {
        "Properties": {"ResponseType": "INVALID_API_KEY"}}).values()
    assert invalid["Properties"]["StatusCode"] == "401"
    body = json.loads(invalid["Properties"]["ResponseTemplates"]["application/json"])
    assert body == {"error": {"code": "unauthorized", "message": "Unauthorized", "details": None}}
