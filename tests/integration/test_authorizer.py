"""The Lambda REQUEST authorizer: an API key in, an IAM policy and a context out (or a 401)."""

from __future__ import annotations

import io
import uuid

import pytest
from streamvault.api.auth import caller_from_request_context
from streamvault.db.repositories.api_keys import create_key, revoke_key
from streamvault.local.apigw import LocalContext
from streamvault.observability import logger

from functions.authorizer.app import lambda_handler

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/v1/creators/1"
STAGE_WILDCARD = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*/*"


@pytest.fixture
def logs(monkeypatch) -> io.StringIO:
    """What the function logs (Powertools writes to the stdout it saw at import, past capsys)."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return stream


def authorizer_event(headers: dict[str, str] | None) -> dict:
    """What API Gateway REST sends a REQUEST authorizer (the fields it reads)."""
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/v1/creators/{creator_id}",
        "path": "/v1/creators/1",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": None,
        "pathParameters": {"creator_id": "1"},
        "stageVariables": None,
        "requestContext": {"stage": "prod", "httpMethod": "GET", "path": "/prod/v1/creators/1"},
    }


def authorize(headers: dict[str, str] | None) -> dict:
    return lambda_handler(authorizer_event(headers), LocalContext())


def new_key(engine, scopes: list[str], **limits: int) -> tuple[str, str]:
    with engine.begin() as conn:
        key, info = create_key(conn, "test", scopes, **limits)
    return key, str(info.id)


def test_a_live_key_gets_an_allow_on_every_route_of_the_stage_and_its_context(engine, logs):
    key, key_id = new_key(engine, ["read", "ingest"])
    answer = authorize({"x-api-key": key, "accept": "application/json"})
    assert answer["principalId"] == key_id
    assert answer["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [STAGE_WILDCARD]}
    ]
    assert answer["context"] == {"keyId": key_id, "scopes": "read,ingest", "rateLimitPerS": 50, "burst": 100}
    assert answer["usageIdentifierKey"] == key_id  # the usage plan throttles by the key's id
    # API Gateway accepts only strings, numbers and booleans as context values
    assert all(isinstance(v, str | int) for v in answer["context"].values())
    # …and the API function reads back the caller from what API Gateway passes on
    caller = caller_from_request_context({"authorizer": answer["context"]})
    assert caller is not None and caller.key_id == key_id and caller.scopes == {"read", "ingest"}
    assert "API key allowed" in logs.getvalue() and key_id in logs.getvalue()
    assert key not in logs.getvalue()  # the logs name the key's id, never the key


def test_a_key_with_its_own_limits_passes_them_on(engine):
    key, _ = new_key(engine, ["read"], rate_limit_per_s=5, burst=7)
    assert authorize({"x-api-key": key})["context"]["rateLimitPerS"] == 5
    assert authorize({"x-api-key": key})["context"]["burst"] == 7


@pytest.mark.parametrize("name", ["X-API-Key", "X-Api-Key", "X-API-KEY"])
def test_the_header_name_is_case_insensitive(engine, name):
    key, key_id = new_key(engine, ["read"])
    assert authorize({name: key})["context"]["keyId"] == key_id


def test_a_revoked_key_is_unauthorized(engine):
    key, key_id = new_key(engine, ["admin"])
    assert authorize({"x-api-key": key})["context"]["keyId"] == key_id
    with engine.begin() as conn:
        assert revoke_key(conn, uuid.UUID(key_id))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize({"x-api-key": key})


@pytest.mark.parametrize("headers", [
    None,
    {},
    {"accept": "application/json"},
    {"x-api-key": ""},
    {"x-api-key": "sv_not-a-key-anyone-was-given"},
    {"authorization": "Bearer sv_whatever"},
])
def test_a_missing_or_unknown_key_is_unauthorized(engine, headers, logs):
    new_key(engine, ["read"])
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(headers)
    assert "API key refused" in logs.getvalue()
    assert "sv_not-a-key" not in logs.getvalue() and "sv_whatever" not in logs.getvalue()
