"""The API Lambda handler, called with API Gateway events against a real database."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from streamvault.local.apigw import LocalContext, apigw_event
from streamvault.observability import logger

from functions.api.app import lambda_handler
from tests.integration.factories import make_creator, make_track

READER = {"keyId": "test-key", "scopes": "read"}


def call(path: str, method: str = "GET", authorizer: dict | None = READER) -> tuple[int, dict]:
    result = lambda_handler(apigw_event(method, path, authorizer=authorizer), LocalContext())
    return result["statusCode"], json.loads(result["body"])


def test_health_reports_the_database_and_sync_age(engine):
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO oracle_sync_logs (operation, status, created_at)
            VALUES ('UPDATE_METRICS', 'SUCCESS', now() - interval '10 minutes'),
                   ('CREATE_COIN', 'SUCCESS', now() - interval '1 minute')  -- a milestone, not a sync
        """))
    status, body = call("/v1/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert 590 <= body["last_successful_sync_age_s"] <= 900


def test_creator_profile_with_engagement_terms(engine):
    with engine.begin() as conn:
        cid = make_creator(conn, plays=1000, followers=10, likes=5, comments=3)
        for days in (3, 40):
            make_track(conn, cid, datetime.now(UTC) - timedelta(days=days))
        conn.execute(text("UPDATE creators SET track_count = 2 WHERE id = :c"), {"c": cid})
    status, body = call(f"/v1/creators/{cid}")
    assert status == 200
    assert (body["id"], body["followers"], body["total_plays"], body["tracks"]) == (cid, 10, 1000, 2)
    assert body["engagement"] == {"score": 17.77, "play_to_follower_ratio": 10.0, "interaction_rate": 1.1,
                                  "content_consistency": 6.67, "tracks_last_90d": 2}
    assert body["monthly_revenue_attofil"] == "0"


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/v1/creators/999999", 404, "not_found"),
    ("/v1/creators/abc", 422, "validation_error"),
    ("/v1/creators/0", 422, "validation_error"),
    ("/v1/creators/99999999999999999999999", 422, "validation_error"),
    ("/v1/nothing-here", 404, "no_route"),
])
def test_client_mistakes_get_the_error_shape(engine, path, status, code):
    got_status, body = call(path)
    assert got_status == status
    assert body["error"]["code"] == code
    assert set(body["error"]) == {"code", "message", "details"}


def test_database_down_is_a_503_not_a_crash(engine):
    from streamvault.config import configure, reset_settings
    from streamvault.db.engine import dispose_engines

    dispose_engines()
    configure(database_url="postgresql://nobody@127.0.0.1:1/none", db_connect_timeout_s=1)
    try:
        status, body = call("/v1/health")
    finally:
        dispose_engines()
        reset_settings()
    assert status == 503
    assert body["status"] == "degraded" and body["database"]["ok"] is False


@pytest.mark.parametrize(("content_type", "body", "status", "code"), [
    ("text/plain", '{"username": "a"}', 415, "unsupported_media_type"),
    ("multipart/form-data", "--x--", 415, "unsupported_media_type"),
    ("application/json", '{"username": ', 400, "bad_json"),
    ("application/json", b"\x80\x81", 400, "bad_json"),
    ("application/json", '{"username": "a\\u0000b"}', 422, "validation_error"),
])
def test_unreadable_bodies_are_refused_before_any_work(engine, content_type, body, status, code):
    event = apigw_event("POST", "/v1/users", {"content-type": content_type}, body,
                        authorizer={"keyId": "k", "scopes": "admin"})
    result = lambda_handler(event, LocalContext())
    assert result["statusCode"] == status
    assert json.loads(result["body"])["error"]["code"] == code


def test_browser_clients_get_cors_headers_and_can_read_the_etag(engine):
    with engine.begin() as conn:
        cid = make_creator(conn)
    event = apigw_event("GET", f"/v1/creators/{cid}", {"origin": "https://app.example"}, authorizer=READER)
    headers = {k.lower(): v for k, v in lambda_handler(event, LocalContext())["multiValueHeaders"].items()}
    assert headers["access-control-allow-origin"] == ["*"]
    assert "ETag" in headers["access-control-expose-headers"][0]


def test_logs_carry_the_request_id_and_a_read_leaves_no_reference_cycles(engine):
    with engine.begin() as conn:
        cid = make_creator(conn, plays=10, followers=2)
    events = [apigw_event("GET", path, authorizer=READER)
              for path in (f"/v1/creators/{cid}", f"/v1/creators/{cid}/stats") * 3]
    for event in events[:2]:
        lambda_handler(event, LocalContext())  # warm: caches fill once
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for event in events:
            assert lambda_handler(event, LocalContext())["statusCode"] == 200
            assert logger.get_correlation_id() == event["requestContext"]["requestId"]
        gc.collect()
        # garbage that only the collector can free makes it pause some request: the p99
        assert [type(o).__name__ for o in gc.garbage] == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
