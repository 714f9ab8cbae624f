"""POST /v1/events through the ingest handler, against a real database."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from streamvault.domain.privacy import user_agent_hash
from streamvault.local.apigw import LocalContext, apigw_event
from streamvault.services.ingest import ua_hash_key

from functions.ingest.app import lambda_handler
from tests.integration.ingest_support import JSON, catalog, event, now, play, post, rollup_mismatches


@pytest.fixture
def rows(engine):
    with engine.begin() as conn:
        return catalog(conn)


def count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_a_batch_of_every_type_is_stored_with_its_counters_and_rollups(engine, rows):
    (c1, c2), (t1, t2, t3, _), (u1, u2, _) = rows["creators"], rows["tracks"], rows["users"]
    comment = event("comment", user_id=u1, track_id=t3, body="great")
    events = [
        play(t1, user_id=u1, duration_ms=1000), play(t1, duration_ms=2000), play(t3, user_id=u2, duration_ms=500),
        event("like", user_id=u1, track_id=t1), event("like", user_id=u2, track_id=t3),
        comment, event("comment", user_id=u2, track_id=t3, body="meh"),
        event("comment_delete", user_id=u1, comment_event_id=comment["event_id"]),
        event("follow", user_id=u1, creator_id=c1), event("follow", user_id=u2, creator_id=c1),
        event("purchase", track_id=t2, user_id=u1, amount_attofil=str(3 * 10**18)),
        event("tip", creator_id=c2, track_id=t3, amount_attofil=str(10**17)),
    ]
    status, body, _ = post(events)
    assert status == 200, body
    assert body == {"accepted": 12, "stored": 12, "duplicates": 0, "buffered": False, "failed": []}
    with engine.connect() as conn:
        assert rollup_mismatches(conn) == {}
        creators = conn.execute(text("""
            SELECT id, play_count, like_count, comment_count, follower_count, engagement_score > 0,
                   metrics_changed_at > now() - interval '1 minute'
            FROM creators WHERE id IN (:a, :b) ORDER BY id"""), {"a": c1, "b": c2}).all()
        revenue = conn.execute(text("SELECT creator_id, sum(revenue_attofil) FROM creator_daily_stats "
                                    "GROUP BY 1 ORDER BY 1")).all()
    assert [tuple(r) for r in creators] == [(c1, 2, 1, 0, 2, True, True), (c2, 1, 1, 1, 0, True, True)]
    assert [tuple(r) for r in revenue] == [(c1, 3 * 10**18), (c2, 10**17)]


def test_deleting_a_comment_on_a_deleted_track_deletes_it_without_counting_it_twice(engine, rows):
    from streamvault.services.admin import delete_track

    (c1, _), (t1, *_), (u1, *_) = rows["creators"], rows["tracks"], rows["users"]
    comment = event("comment", user_id=u1, track_id=t1, body="soon gone")
    assert post([comment])[0] == 200
    with engine.begin() as conn:  # the catalog fixture leaves track counts to the admin API
        conn.execute(text("UPDATE creators c SET track_count = (SELECT count(*) FROM tracks t "
                          "WHERE t.creator_id = c.id AND t.deleted_at IS NULL)"))
    delete_track("test", t1)  # takes the track's comment off the creator's counters
    status, body, _ = post([event("comment_delete", user_id=u1, comment_event_id=comment["event_id"])])
    assert (status, body["stored"], body["failed"]) == (200, 1, []), body
    assert count(engine, "SELECT comment_count FROM creators WHERE id = :c", c=c1) == 0  # not -1
    assert count(engine, "SELECT count(*) FROM comments WHERE event_id = :e AND deleted_at IS NOT NULL",
                 e=comment["event_id"]) == 1  # the author's deletion holds


def test_replaying_a_batch_changes_nothing(engine, rows):
    (c1, _), (t1, *_), (u1, *_) = rows["creators"], rows["tracks"], rows["users"]
    like, unlike = event("like", user_id=u1, track_id=t1), event("unlike", user_id=u1, track_id=t1)
    batch = [play(t1, user_id=u1), like, unlike, event("follow", user_id=u1, creator_id=c1),
             event("tip", creator_id=c1, amount_attofil="5")]
    assert post(batch)[1]["stored"] == 5

    def state():
        with engine.connect() as conn:
            return [conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2")).all()
                    for t in ("plays", "likes", "follows", "revenue_events", "creator_daily_stats", "daily_stats")] + [
                conn.execute(text("SELECT id, play_count, like_count, follower_count FROM creators ORDER BY id")).all()]

    before = state()
    for replay in (batch, batch[::-1], [like], [like, unlike, like]):
        status, body, _ = post(replay)
        assert (status, body["stored"], body["duplicates"]) == (200, 0, len(replay))
    assert state() == before  # the like replayed after its unlike did not come back


def test_likes_and_follows_apply_in_batch_order_and_repeat_as_no_ops(engine, rows):
    (c1, _), (t1, *_), (u1, u2, _) = rows["creators"], rows["tracks"], rows["users"]
    batch = [event("like", user_id=u1, track_id=t1), event("unlike", user_id=u1, track_id=t1),
             event("like", user_id=u1, track_id=t1), event("like", user_id=u1, track_id=t1),
             event("unlike", user_id=u2, track_id=t1),  # nothing to undo
             event("follow", user_id=u2, creator_id=c1), event("follow", user_id=u2, creator_id=c1),
             event("unfollow", user_id=u2, creator_id=c1), event("unfollow", user_id=u1, creator_id=c1)]
    status, body, _ = post(batch)
    assert (status, body["stored"]) == (200, 9)  # no-ops are stored events: replays stay no-ops
    with engine.connect() as conn:
        assert rollup_mismatches(conn) == {}
        assert conn.execute(text("SELECT user_id FROM likes")).scalars().all() == [u1]
        assert conn.execute(text("SELECT count(*) FROM follows")).scalar_one() == 0
        assert conn.execute(text("SELECT sum(follows), sum(unfollows) FROM creator_daily_stats")).one() == (1, 1)


def test_an_undo_of_what_the_rollups_never_counted_stores_nothing(engine, rows):
    (t1, *_), (u1, *_) = rows["tracks"], rows["users"]
    with engine.begin() as conn:  # a like behind the rollups' back: the data is inconsistent
        conn.execute(text("INSERT INTO likes (user_id, track_id, created_at) VALUES (:u, :t, now())"),
                     {"u": u1, "t": t1})
    status, body, _ = post([play(t1), event("unlike", user_id=u1, track_id=t1)])
    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert count(engine, "SELECT count(*) FROM likes") == 1  # the whole batch rolled back
    assert count(engine, "SELECT count(*) FROM ingested_events") == 0
    assert count(engine, "SELECT count(*) FROM plays") == 0


def test_unknown_references_are_per_item_errors(engine, rows):
    (c1, _), (t1, _, t3, _), (u1, *_) = rows["creators"], rows["tracks"], rows["users"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE tracks SET deleted_at = now() WHERE id = :t"), {"t": t3})
    events = [play(t1), play(999_999), play(t1, user_id=888_888), event("follow", user_id=u1, creator_id=777_777),
              play(t3), event("tip", creator_id=c1, track_id=t3, amount_attofil="1"),
              event("tip", creator_id=c1, track_id=rows["tracks"][3], amount_attofil="1")]  # another creator's track
    status, body, _ = post(events)
    assert status == 207
    assert (body["stored"], body["accepted"]) == (1, 1)
    assert [(f["index"], f["code"]) for f in body["failed"]] == [
        (1, "unknown_track"), (2, "unknown_user"), (3, "unknown_creator"), (4, "unknown_track"),
        (5, "unknown_track"), (6, "unknown_track")]
    assert body["failed"][0]["event_id"] == events[1]["event_id"]
    assert count(engine, "SELECT count(*) FROM ingested_events") == 1


def test_some_invalid_items_answer_207_none_valid_422(engine, rows):
    t1 = rows["tracks"][0]
    status, body, _ = post([play(t1), play(t1, duration_ms="long"), play(t1, at=now() + timedelta(minutes=6))])
    assert status == 207 and body["stored"] == 1
    assert [(f["index"], f["code"]) for f in body["failed"]] == [(1, "invalid_event"), (2, "future_event")]

    status, body, _ = post([play(t1, at=now() - timedelta(days=8)), {"type": "play"}])
    assert status == 422
    assert body["error"]["code"] == "no_valid_event"
    assert [(f["index"], f["code"]) for f in body["error"]["details"]["failed"]] == [
        (0, "too_old"), (1, "invalid_event")]


def test_events_within_the_clock_skew_are_accepted(engine, rows):
    status, body, _ = post([play(rows["tracks"][0], at=now() + timedelta(minutes=4))])
    assert (status, body["stored"]) == (200, 1)


@pytest.mark.parametrize(("body", "headers", "status", "code"), [
    ("{not json", JSON, 400, "malformed_body"),
    ('["a list"]', JSON, 400, "malformed_body"),
    ('{"events": {"type": "play"}}', JSON, 400, "malformed_body"),
    ('{"events": []}', JSON, 400, "empty_batch"),
    (json.dumps({"events": [{}] * 501}), JSON, 413, "payload_too_large"),
    (json.dumps({"events": [{"pad": "x" * (1024 * 1024)}]}), JSON, 413, "payload_too_large"),
    ('{"events": [{}]}', {"content-type": "text/plain"}, 415, "unsupported_media_type"),
    ('{"events": [{}]}', {}, 415, "unsupported_media_type"),
])
def test_bodies_that_are_not_a_batch_get_a_4xx_error(engine, body, headers, status, code):
    got, answer, _ = post(body=body, headers=headers)
    assert (got, answer["error"]["code"]) == (status, code)
    assert set(answer["error"]) == {"code", "message", "details"}


def test_a_charset_parameter_is_fine(engine, rows):
    status, _, _ = post([play(rows["tracks"][0])], headers={"Content-Type": "application/json; charset=utf-8"})
    assert status == 200


@pytest.mark.parametrize(("authorizer", "status", "code"), [
    (None, 401, "unauthorized"), ({"keyId": "k", "scopes": "read,admin"}, 403, "forbidden"),
])
def test_posting_events_needs_the_ingest_scope(engine, rows, authorizer, status, code):
    got, body, _ = post([play(rows["tracks"][0])], authorizer=authorizer)
    assert (got, body["error"]["code"]) == (status, code)
    assert count(engine, "SELECT count(*) FROM plays") == 0


def test_other_routes_are_not_here(engine):
    result = lambda_handler(apigw_event("GET", "/v1/events", authorizer={"keyId": "k", "scopes": "ingest"}),
                            LocalContext())
    assert result["statusCode"] == 404 and json.loads(result["body"])["error"]["code"] == "no_route"


def test_raw_ip_and_user_agent_never_reach_the_database_or_the_logs(engine, rows, capsys, caplog):
    agent = f"Mozilla/5.0 secret-agent-{uuid.uuid4()}"
    events = [play(rows["tracks"][0], ip="198.51.100.213", user_agent=agent),
              play(rows["tracks"][1], ip="2001:db8:1234:5678:9abc::1", user_agent=agent),
              play(rows["tracks"][1], ip="bad-ip", user_agent=agent)]
    with caplog.at_level(logging.DEBUG):
        status, body, _ = post(events)
    logs = caplog.text + capsys.readouterr().out  # Powertools logs to stdout
    assert status == 207
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT ip_prefix::text, ua_hash FROM plays ORDER BY ip_prefix")).all()
        dump = conn.execute(text("SELECT string_agg(p::text, ' ') FROM plays p")).scalar_one()
    assert [r[0] for r in stored] == ["198.51.100.0/24", "2001:db8:1234::/48"]
    assert {bytes(r[1]) for r in stored} == {user_agent_hash(ua_hash_key(), agent)}
    for raw in ("198.51.100.213", "2001:db8:1234:5678", agent, "secret-agent"):
        assert raw not in dump
        assert raw not in logs
        assert raw not in json.dumps(body)
