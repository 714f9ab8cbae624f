"""The read API through the real handler: every route, pagination, caching, errors, replica routing.

Read-only tests share one seeded database per module (``seeded``); tests that write get a fresh
one (``engine``) and build their rows with the factories.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, get_args

import boto3
import pytest
from moto import mock_aws
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, create_engine, text
from streamvault.config import configure, get_settings, reset_settings
from streamvault.db import models
from streamvault.db.engine import dispose_engines, get_engine, psycopg_url
from streamvault.db.repositories import creators as creators_repo
from streamvault.db.seed import seed_database
from streamvault.local.apigw import LocalContext, apigw_event, response_parts
from streamvault.local.postgres import create_database, drop_database, unique_name
from streamvault.local.sqs import create_buffer_queues
from streamvault.services import creators as creator_service
from streamvault.services import oracle as oracle_service
from streamvault.services.database import api_read, api_write
from streamvault.services.health import reset_queue_depths

from functions.api.app import app, lambda_handler
from tests.integration.factories import make_creator, make_track, make_user

READER = {"keyId": "test-key", "scopes": "read"}
FIL = 10**18
SORT_COLUMNS = {"engagement": "engagement_score", "plays": "play_count", "followers": "follower_count",
                "newest": "created_at"}
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"


def get(path: str, headers: dict[str, str] | None = None, authorizer: dict | None = READER,
        multi_value_headers: dict[str, list[str]] | None = None) -> tuple[int, dict[str, str], Any]:
    event = apigw_event("GET", path, headers=headers, authorizer=authorizer, multi_value_headers=multi_value_headers)
    result = lambda_handler(event, LocalContext())
    status, out_headers, data = response_parts(result)
    return status, out_headers, json.loads(data) if data else None


def ok(path: str) -> Any:
    status, _, body = get(path)
    assert status == 200, body
    return body


@contextmanager
def app_database(url: str, **overrides: Any) -> Iterator[Engine]:
    """Point the app's settings (and so its engines) at ``url`` for the block."""
    dispose_engines()
    configure(database_url=url, **{"read_database_url": None, **overrides})
    try:
        yield get_engine()
    finally:
        dispose_engines()
        reset_settings()


@pytest.fixture(scope="module")
def seeded_url(pg_server_url: str, template_database: str) -> Iterator[str]:
    name = unique_name("sv_reads")
    url = create_database(pg_server_url, name, template=template_database)
    engine = create_engine(psycopg_url(url))
    try:
        seed_database(engine, creators=60, plays=5000)
    finally:
        engine.dispose()
    yield url
    drop_database(pg_server_url, name)


@pytest.fixture
def seeded(seeded_url: str) -> Iterator[Engine]:
    """The module's seeded database: read it, never write it."""
    with app_database(seeded_url) as engine:
        yield engine


@pytest.fixture
def read_ids(seeded: Engine) -> dict[str, int]:
    """Ids every keyed read route answers 200 for in the seeded database: a live creator, a live
    track of a live creator, a public playlist and its live owner (so a user with playlists)."""
    with seeded.connect() as conn:
        return conn.execute(text("""
            SELECT (SELECT min(id) FROM creators WHERE deleted_at IS NULL) AS creator_id,
                   (SELECT min(t.id) FROM tracks t JOIN creators c ON c.id = t.creator_id
                    WHERE t.deleted_at IS NULL AND c.deleted_at IS NULL) AS track_id,
                   p.id AS playlist_id, p.owner_id AS user_id
            FROM playlists p JOIN users u ON u.id = p.owner_id
            WHERE p.is_public AND u.deleted_at IS NULL ORDER BY p.id LIMIT 1
        """)).one()._asdict()


def scalars(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).scalars())


def walk(path: str, cursor: str | None = None) -> tuple[list[dict], int]:
    """Every item of a paginated list from ``cursor`` on, following next_cursor; and how many
    pages it took."""
    items, pages = [], 0
    while True:
        sep = "&" if "?" in path else "?"
        body = ok(path + (f"{sep}cursor={cursor}" if cursor else ""))
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


# --- creators: lists ---------------------------------------------------------------------------


@pytest.mark.parametrize("sort", get_args(creator_service.CreatorSort))
def test_walking_every_page_gives_the_sql_ordering_once(seeded, sort):
    column = SORT_COLUMNS[sort]
    expected = scalars(seeded, f"SELECT id FROM creators WHERE deleted_at IS NULL ORDER BY {column} DESC, id")
    items, pages = walk(f"/v1/creators?sort={sort}&limit=7")
    assert [i["id"] for i in items] == expected  # same order, no duplicates, no gaps
    assert pages == -(-len(expected) // 7)


def test_a_cursor_is_a_position_not_an_offset(engine):
    with engine.begin() as conn:
        ids = {n: make_creator(conn, followers=n) for n in (50, 40, 30, 20, 10)}
    first = ok("/v1/creators?sort=followers&limit=2")
    assert [i["id"] for i in first["items"]] == [ids[50], ids[40]]
    with engine.begin() as conn:  # one creator lands before the cursor, one after it
        ids[100], ids[35] = make_creator(conn, followers=100), make_creator(conn, followers=35)
    rest, _ = walk("/v1/creators?sort=followers&limit=2", first["next_cursor"])
    assert [i["id"] for i in rest] == [ids[35], ids[30], ids[20], ids[10]]  # nothing repeated or skipped


def test_sorts_really_have_ties_broken_by_id(seeded):
    # what makes the walk above meaningful: several creators share a follower count
    ties = scalars(seeded, "SELECT count(*) - count(DISTINCT follower_count) FROM creators")
    assert ties[0] > 0


def test_filters_narrow_the_list_and_keep_the_ordering(seeded):
    expected = scalars(seeded, """
        SELECT id FROM creators
        WHERE deleted_at IS NULL AND NOT verified AND follower_count >= 2 AND coin_address IS NULL
        ORDER BY play_count DESC, id
    """)
    items, _ = walk("/v1/creators?sort=plays&verified=false&min_followers=2&has_coin=false&limit=5")
    assert [i["id"] for i in items] == expected and expected
    assert ok("/v1/creators?has_coin=true")["items"] == []  # the seed mints no coins


def test_list_items_carry_the_stored_counters(seeded):
    body = ok("/v1/creators?sort=followers&limit=3")
    with seeded.connect() as conn:
        top = conn.execute(text("""
            SELECT id, name, follower_count, play_count, track_count, engagement_score FROM creators
            ORDER BY follower_count DESC, id LIMIT 3
        """)).all()
    assert [(i["id"], i["name"], i["followers"], i["total_plays"], i["tracks"], i["engagement_score"])
            for i in body["items"]] == [(r.id, r.name, r.follower_count, r.play_count, r.track_count,
                                         float(r.engagement_score)) for r in top]
    assert body["next_cursor"] is not None
    assert ok("/v1/creators?limit=100")["next_cursor"] is None  # 60 creators: one page


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("cursor", [
    "not-a-cursor!",
    "e30",  # {}
    _b64(b"not json"),
    _b64(b'{"o":"engagement","k":["17.77",1],"x":1}'),  # an extra field
    _b64(b'{"o":"engagement","k":["17.777",1]}'),  # more precision than the column
    _b64(b'{"o":"engagement","k":["17.77","1"]}'),  # id as a string
    _b64(b'{"o":"engagement","k":["17.77",0]}'),
    _b64(b'{"o":"engagement","k":["17.77",9223372036854775808]}'),
    _b64(b'{"o":"engagement","k":["NaN",1]}'),
    _b64(b'{"o":"engagement","k":["17.77"]}'),
    _b64(b'{"o":"plays","k":[10,1]}'),  # another ordering's cursor
    _b64(b'{"o":"engagement","k":["17.77",1]}') + "==",  # padded
    "A" * 600,
])
def test_bad_cursors_are_a_400(seeded, cursor):
    status, _, body = get(f"/v1/creators?sort=engagement&cursor={cursor}")
    assert (status, body["error"]["code"]) == (400, "bad_cursor")


def test_a_cursor_belongs_to_its_sort(seeded):
    cursor = ok("/v1/creators?sort=newest&limit=2")["next_cursor"]
    assert get(f"/v1/creators?sort=newest&cursor={cursor}")[0] == 200
    status, _, body = get(f"/v1/creators?sort=plays&cursor={cursor}")
    assert (status, body["error"]["code"]) == (400, "bad_cursor")
    status, _, body = get(f"/v1/oracle/logs?cursor={cursor}")
    assert (status, body["error"]["code"]) == (400, "bad_cursor")


# --- creators: stats ---------------------------------------------------------------------------


def test_creator_stats_are_the_rollups_zero_filled(seeded):
    creator_id = scalars(seeded, "SELECT id FROM creators ORDER BY play_count DESC LIMIT 1")[0]
    end = datetime.now(UTC).date()
    start = end - timedelta(days=99)
    with seeded.connect() as conn:
        rollups = {r.day: r for r in conn.execute(text("""
            SELECT * FROM creator_daily_stats WHERE creator_id = :c AND day BETWEEN :s AND :e
        """), {"c": creator_id, "s": start, "e": end})}
    body = ok(f"/v1/creators/{creator_id}/stats?from={start}&to={end}")
    assert (body["creator_id"], body["from"], body["to"]) == (creator_id, str(start), str(end))
    assert [d["day"] for d in body["days"]] == [str(start + timedelta(days=n)) for n in range(100)]
    for day in body["days"]:
        row = rollups.get(date.fromisoformat(day["day"]))
        expected = (row.plays, row.listen_ms, row.unfollows, str(row.revenue_attofil)) if row else (0, 0, 0, "0")
        assert (day["plays"], day["listen_ms"], day["unfollows"], day["revenue_attofil"]) == expected
    assert 0 < len(rollups) < 100  # both kinds of day were checked
    # serialized from the rows, not from the model: it is still exactly the documented shape
    assert creator_service.CreatorStatsOut.model_validate(body).model_dump(mode="json", by_alias=True) == body


def test_stats_default_to_the_last_30_days(seeded):
    body = ok("/v1/creators/1/stats")
    today = datetime.now(UTC).date()
    assert (body["from"], body["to"], len(body["days"])) == (str(today - timedelta(days=29)), str(today), 30)
    body = ok("/v1/creators/1/stats?to=2025-03-01")
    assert (body["from"], len(body["days"])) == ("2025-01-31", 30)
    assert len(ok("/v1/creators/1/stats?from=2024-01-01&to=2024-12-31")["days"]) == 366  # the maximum


def test_platform_daily_stats_match_daily_stats(seeded):
    end = datetime.now(UTC).date()
    start = end - timedelta(days=9)
    with seeded.connect() as conn:
        rows = {r.day: r for r in conn.execute(text("SELECT * FROM daily_stats"))}
    body = ok(f"/v1/stats/daily?from={start}&to={end}")
    assert len(body["days"]) == 10
    for day in body["days"]:
        row = rows.get(date.fromisoformat(day["day"]))
        assert (day["plays"], day["new_users"], day["revenue_attofil"]) == (
            (row.plays, row.new_users, str(row.revenue_attofil)) if row else (0, 0, "0"))


# --- catalog -----------------------------------------------------------------------------------


def test_track_with_counters_price_and_creator(seeded):
    with seeded.connect() as conn:
        t = conn.execute(text("""
            SELECT t.*, c.name AS creator_name FROM tracks t JOIN creators c ON c.id = t.creator_id
            WHERE t.deleted_at IS NULL AND t.price_attofil > 0 ORDER BY t.play_count DESC LIMIT 1
        """)).one()
    body = ok(f"/v1/tracks/{t.id}")
    assert body["price_attofil"] == str(t.price_attofil) and int(body["price_attofil"]) >= 10**17
    assert (body["title"], body["plays"], body["likes"], body["comments"], body["duration_ms"]) == (
        t.title, t.play_count, t.like_count, t.comment_count, t.duration_ms)
    assert body["creator"] == {"id": t.creator_id, "name": t.creator_name}


def test_playlist_tracks_in_position_order(seeded):
    playlist_id, owner_id = seeded.connect().execute(text(
        "SELECT id, owner_id FROM playlists WHERE is_public ORDER BY id LIMIT 1")).one()
    expected = scalars(seeded, "SELECT track_id FROM playlist_entries WHERE playlist_id = :p ORDER BY position",
                       p=playlist_id)
    body = ok(f"/v1/playlists/{playlist_id}")
    assert [e["track"]["id"] for e in body["tracks"]] == expected
    assert [e["position"] for e in body["tracks"]] == sorted(e["position"] for e in body["tracks"])
    assert body["owner"]["id"] == owner_id and set(body["owner"]) == {"id", "username", "display_name"}


def test_a_users_public_playlists_without_email(seeded):
    owner_id = scalars(seeded, """
        SELECT owner_id FROM playlists GROUP BY owner_id HAVING bool_or(is_public) AND bool_or(NOT is_public)
        ORDER BY owner_id LIMIT 1
    """)[0]
    public = scalars(seeded, "SELECT id FROM playlists WHERE owner_id = :u AND is_public", u=owner_id)
    status, _, body = get(f"/v1/users/{owner_id}/playlists")
    assert status == 200
    assert sorted(p["id"] for p in body["items"]) == sorted(public)
    assert body["user"]["id"] == owner_id
    assert "@" not in json.dumps(body)  # no email anywhere


def test_private_playlists_and_deleted_accounts_are_not_found(engine):
    with engine.begin() as conn:
        user = make_user(conn)
        private, public = conn.execute(text("""
            INSERT INTO playlists (owner_id, name, is_public) VALUES (:u, 'mine', false), (:u, 'ours', true)
            RETURNING id
        """), {"u": user}).scalars()
    assert get(f"/v1/playlists/{private}")[0] == 404
    assert ok(f"/v1/playlists/{public}")["tracks"] == []
    assert [p["id"] for p in ok(f"/v1/users/{user}/playlists")["items"]] == [public]
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET deleted_at = now() WHERE id = :u"), {"u": user})
    for path in (f"/v1/users/{user}/playlists", f"/v1/playlists/{public}"):
        status, _, body = get(path)
        assert (status, body["error"]["code"]) == (404, "not_found")


def test_deleted_tracks_are_not_found_and_leave_playlists(engine):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        creator = make_creator(conn)
        kept, deleted = make_track(conn, creator, now), make_track(conn, creator, now, deleted=True)
        owner = make_user(conn)
        playlist = conn.execute(text("INSERT INTO playlists (owner_id, name) VALUES (:u, 'p') RETURNING id"),
                                {"u": owner}).scalar_one()
        conn.execute(text("""
            INSERT INTO playlist_entries (playlist_id, track_id, position) VALUES (:p, :a, 0), (:p, :b, 1)
        """), {"p": playlist, "a": deleted, "b": kept})
    assert get(f"/v1/tracks/{deleted}")[0] == 404
    assert ok(f"/v1/tracks/{kept}")["price_attofil"] == "0"
    assert [e["track"]["id"] for e in ok(f"/v1/playlists/{playlist}")["tracks"]] == [kept]
    assert ok(f"/v1/users/{owner}/playlists")["items"][0]["track_count"] == 1


# --- creator profile ---------------------------------------------------------------------------


def test_profile_with_milestones_and_last_sync_and_nothing_private(engine):
    synced_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with engine.begin() as conn:
        cid = make_creator(conn, plays=1000, followers=10, verified=True, wallet=True, market_cap=7 * FIL)
        conn.execute(text("""
            INSERT INTO creator_milestones (creator_id, milestone_type, threshold, value_reached, reached_at) VALUES
              (:c, 'PLAYS', 1000, 1000, '2026-01-01'), (:c, 'REVENUE', :big, :big, '2026-01-03')
        """), {"c": cid, "big": 123 * FIL})
        conn.execute(text("""
            INSERT INTO creator_sync_state (creator_id, epoch, plays, followers, engagement_bps,
                                            monthly_revenue_attofil, synced_at, tx_hash)
            VALUES (:c, 4, 900, 9, 1234, :rev, :at, '0xabc')
        """), {"c": cid, "rev": 5 * FIL + 1, "at": synced_at})
    body = ok(f"/v1/creators/{cid}")
    assert body["monthly_revenue_attofil"] == str(7 * FIL // 10)
    assert [(m["milestone_type"], m["threshold"], m["value_reached"]) for m in body["milestones"]] == [
        ("PLAYS", "1000", "1000"), ("REVENUE", str(123 * FIL), str(123 * FIL))]
    assert body["last_sync"] == {"epoch": 4, "plays": 900, "followers": 9, "engagement_bps": 1234,
                                 "monthly_revenue_attofil": str(5 * FIL + 1),
                                 "synced_at": "2026-01-02T03:04:05Z", "tx_hash": "0xabc"}
    text_body = json.dumps(body).lower()
    assert "wallet" not in text_body and "email" not in text_body and "@" not in text_body


def test_profiles_agree_with_the_set_based_metrics_the_oracle_syncs(seeded):
    # the profile query applies the metric rules per creator, the oracle's CTE set-based
    as_of = datetime.now(UTC)
    with seeded.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM creators ORDER BY id")).scalars())
        expected = {cid: creators_repo.creator_metrics(conn, cid, as_of) for cid in ids}
    for cid in ids:
        body, m = ok(f"/v1/creators/{cid}"), expected[cid]
        assert (body["engagement"]["score"], body["engagement"]["tracks_last_90d"], body["monthly_revenue_attofil"]) \
            == (float(m.engagement_score), m.tracks_90d, str(m.monthly_revenue_attofil))
    assert any(m.monthly_revenue_attofil for m in expected.values())
    assert any(m.tracks_90d for m in expected.values())


def test_never_synced_creator_has_null_last_sync(engine):
    with engine.begin() as conn:
        cid = make_creator(conn)
    body = ok(f"/v1/creators/{cid}")
    assert (body["last_sync"], body["milestones"]) == (None, [])


def test_deleted_creator_is_not_found_everywhere(engine):
    with engine.begin() as conn:
        cid = make_creator(conn)
        conn.execute(text("UPDATE creators SET deleted_at = now() WHERE id = :c"), {"c": cid})
    for path in (f"/v1/creators/{cid}", f"/v1/creators/{cid}/stats", "/v1/creators/424242/stats"):
        status, _, body = get(path)
        assert (status, body["error"]["code"]) == (404, "not_found")
    assert ok("/v1/creators")["items"] == []


# --- oracle ------------------------------------------------------------------------------------


def test_oracle_sync_stats_and_paginated_logs(engine):
    with engine.begin() as conn:
        cid = make_creator(conn)
        conn.execute(text("""
            INSERT INTO oracle_sync_logs (operation, status, creator_id, duration_ms, created_at)
            SELECT 'UPDATE_METRICS', CASE WHEN n % 3 = 0 THEN 'FAILED' ELSE 'SUCCESS' END,
                   CASE WHEN n % 2 = 0 THEN CAST(:c AS bigint) END, 100 * n, now() - n * interval '1 hour'
            FROM generate_series(1, 9) n
        """), {"c": cid})
        ids = list(conn.execute(text("SELECT id FROM oracle_sync_logs ORDER BY id DESC")).scalars())
    stats = ok("/v1/oracle/sync-stats?hours=5")  # logs 1 to 4 hours old
    assert (stats["hours"], stats["operations"], stats["succeeded"], stats["failed"]) == (5, 4, 3, 1)
    assert stats["success_rate"] == 0.75 and stats["avg_duration_ms"] == 250.0
    assert ok("/v1/oracle/sync-stats")["operations"] == 9  # default: 24 hours

    items, pages = walk("/v1/oracle/logs?limit=2")
    assert ([i["id"] for i in items], pages) == (ids, 5)
    failed, _ = walk("/v1/oracle/logs?status=FAILED&limit=1")
    assert {i["status"] for i in failed} == {"FAILED"} and len(failed) == 3
    mine, _ = walk(f"/v1/oracle/logs?creator_id={cid}&operation=UPDATE_METRICS")
    assert len(mine) == 4 and {i["creator_id"] for i in mine} == {cid}


def test_the_service_enums_match_the_schema():
    # spelled out in the services to keep the ORM out of the API's cold start
    assert get_args(oracle_service.OracleStatus) == models.ORACLE_STATUSES
    assert get_args(oracle_service.OracleOperation) == models.ORACLE_OPERATIONS
    assert get_args(creator_service.MilestoneType) == models.MILESTONE_TYPES


# --- caching -----------------------------------------------------------------------------------


# every read route but /v1/health, its ids filled in from ``read_ids``
KEYED_READS = [
    "/v1/creators", "/v1/creators/{creator_id}", "/v1/creators/{creator_id}/stats", "/v1/tracks/{track_id}",
    "/v1/playlists/{playlist_id}", "/v1/users/{user_id}/playlists", "/v1/stats/daily", "/v1/oracle/sync-stats",
    "/v1/oracle/logs",
]


def test_keyed_reads_lists_every_read_route():
    routes = {r.openapi_path for r in app._static_routes + app._dynamic_routes
              if r.method == "GET" and r.include_in_schema}
    assert routes - {"/v1/health"} == set(KEYED_READS)


@pytest.mark.parametrize("route", KEYED_READS)
def test_every_keyed_read_has_an_etag_and_answers_304_to_it(seeded, read_ids, route):
    path = route.format(**read_ids)
    status, headers, body = get(path)
    etag = headers.get("ETag", "")
    assert status == 200 and body, body
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2  # strong
    assert headers["Cache-Control"] == f"private, max-age={get_settings().api_cache_max_age_s}"
    status, not_modified, body = get(path, headers={"If-None-Match": etag})
    assert (status, body, not_modified["ETag"], not_modified["Cache-Control"]) == (
        304, None, etag, headers["Cache-Control"])


@pytest.mark.parametrize("route", KEYED_READS)
def test_every_keyed_read_needs_a_key_with_the_read_scope(seeded, read_ids, route):
    path = route.format(**read_ids)
    etag = get(path)[1]["ETag"]
    for authorizer, expected in ((None, (401, "unauthorized")),
                                 ({"keyId": "x", "scopes": "ingest"}, (403, "forbidden"))):
        # a current tag is no key: the scope check comes before the 304
        status, headers, body = get(path, headers={"If-None-Match": etag}, authorizer=authorizer)
        assert (status, body["error"]["code"]) == expected
        assert "ETag" not in headers


def test_if_none_match_forms(seeded):
    status, headers, body = get("/v1/creators/1")
    etag = headers["ETag"]
    assert status == 200
    for sent in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        status, not_modified, body = get("/v1/creators/1", headers={"If-None-Match": sent})
        assert (status, body, not_modified["ETag"]) == (304, None, etag)
        assert not_modified["Cache-Control"] == headers["Cache-Control"]
    assert get("/v1/creators/1", headers={"If-None-Match": '"other"'})[0] == 200
    assert get("/v1/creators/1")[1]["ETag"] == etag  # stable while the data is


def test_etag_changes_with_the_data(engine):
    with engine.begin() as conn:
        cid = make_creator(conn, followers=5)
    _, headers, _ = get(f"/v1/creators/{cid}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE creators SET follower_count = 6 WHERE id = :c"), {"c": cid})
    status, new_headers, body = get(f"/v1/creators/{cid}", headers={"If-None-Match": headers["ETag"]})
    assert (status, body["followers"]) == (200, 6)
    assert new_headers["ETag"] != headers["ETag"]


@pytest.mark.parametrize(("lines", "expected"), [
    (['"other"', "{etag}"], 304),  # the tag on the second line
    (["{etag}", '"other"'], 304),  # on the first: the single-value header holds only the last line
    (['"other"', 'W/"another", "third"'], 200),
], ids=["second-line", "first-line", "no-line"])
def test_if_none_match_on_several_header_lines(seeded, read_ids, lines, expected):
    """API Gateway passes a header sent on several lines in multiValueHeaders."""
    path = f"/v1/creators/{read_ids['creator_id']}"
    etag = get(path)[1]["ETag"]
    status, headers, body = get(path, multi_value_headers={"If-None-Match": [x.format(etag=etag) for x in lines]})
    assert (status, headers["ETag"]) == (expected, etag)
    assert (body is None) == (expected == 304)


def test_errors_and_health_are_not_cached(seeded):
    _, headers, _ = get("/v1/creators/999999")
    assert "ETag" not in headers
    status, headers, body = get("/v1/health", authorizer=None)
    assert (status, headers["Cache-Control"], body["queues"]) == (200, "no-store", {})
    assert "ETag" not in headers


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        reset_queue_depths()
        yield boto3.client("sqs", region_name="us-east-1")
    reset_queue_depths()


def test_health_reports_the_configured_queues_depths_read_at_most_once_per_max_age(seeded_url, sqs):
    buffer, buffer_dlq = create_buffer_queues(sqs, visibility_timeout_s=60)
    retry = sqs.create_queue(QueueName="oracle-retry")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=buffer, MessageBody=f"batch {n}")
    sqs.receive_message(QueueUrl=buffer, MaxNumberOfMessages=1)  # a consumer holds one
    sqs.send_message(QueueUrl=retry, MessageBody="tx 7", DelaySeconds=600)  # a scheduled retry
    urls = {"ingest-buffer": buffer, "ingest-buffer-dlq": buffer_dlq, "oracle-retry": retry}
    with app_database(seeded_url, health_queue_urls=urls, health_queue_max_age_s=3600):
        status, _, body = get("/v1/health", authorizer=None)
        assert (status, body["status"]) == (200, "ok")
        assert body["queues"] == {
            "ingest-buffer": {"waiting": 2, "in_flight": 1, "delayed": 0},
            "ingest-buffer-dlq": {"waiting": 0, "in_flight": 0, "delayed": 0},
            "oracle-retry": {"waiting": 0, "in_flight": 0, "delayed": 1},
        }
        sqs.send_message(QueueUrl=buffer_dlq, MessageBody="poison")
        # an open route: within the max age the depths come from the last reading, not from SQS
        assert get("/v1/health", authorizer=None)[2]["queues"]["ingest-buffer-dlq"]["waiting"] == 0
    with app_database(seeded_url, health_queue_urls=urls, health_queue_max_age_s=0):
        assert get("/v1/health", authorizer=None)[2]["queues"]["ingest-buffer-dlq"]["waiting"] == 1


def test_health_leaves_out_the_queues_it_cannot_read_and_still_answers(seeded_url):
    reset_queue_depths()
    urls = {"ingest-buffer": "http://127.0.0.1:1/123456789012/ingest-buffer"}
    try:
        with app_database(seeded_url, health_queue_urls=urls, sqs_endpoint_url="http://127.0.0.1:1"):
            status, _, body = get("/v1/health", authorizer=None)
    finally:
        reset_queue_depths()
    assert (status, body["status"], body["queues"]) == (200, "ok", {})


# --- client mistakes ---------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/v1/creators?limit=abc", 422, "validation_error"),
    ("/v1/creators?limit=0", 422, "validation_error"),
    ("/v1/creators?limit=101", 422, "validation_error"),
    ("/v1/creators?sort=best", 422, "validation_error"),
    ("/v1/creators?verified=maybe", 422, "validation_error"),
    ("/v1/creators?min_followers=-1", 422, "validation_error"),
    ("/v1/creators?min_followers=99999999999999999999", 422, "validation_error"),
    ("/v1/creators?cursor=", 400, "bad_cursor"),
    ("/v1/creators/1/stats?from=2026-13-01", 422, "validation_error"),
    ("/v1/creators/1/stats?from=yesterday", 422, "validation_error"),
    ("/v1/creators/1/stats?from=2026-02-02&to=2026-02-01", 400, "bad_date_range"),
    ("/v1/creators/1/stats?from=2024-01-01&to=2025-01-01", 400, "bad_date_range"),  # 367 days
    ("/v1/creators/1/stats?to=0001-01-05", 200, None),  # the default start stops at year 1
    ("/v1/stats/daily?from=2020-01-01", 400, "bad_date_range"),
    ("/v1/stats/daily?to=2026-02-30", 422, "validation_error"),
    ("/v1/creators/99999999999999999999/stats", 422, "validation_error"),
    ("/v1/tracks/99999999999999999999", 422, "validation_error"),
    ("/v1/tracks/-1", 422, "validation_error"),
    ("/v1/tracks/999999", 404, "not_found"),
    ("/v1/playlists/abc", 422, "validation_error"),
    ("/v1/playlists/999999", 404, "not_found"),
    ("/v1/users/0/playlists", 422, "validation_error"),
    ("/v1/users/999999/playlists", 404, "not_found"),
    ("/v1/oracle/sync-stats?hours=0", 422, "validation_error"),
    ("/v1/oracle/sync-stats?hours=721", 422, "validation_error"),
    ("/v1/oracle/logs?status=DONE", 422, "validation_error"),
    ("/v1/oracle/logs?operation=x", 422, "validation_error"),
    ("/v1/oracle/logs?creator_id=0", 422, "validation_error"),
    ("/v1/oracle/logs?cursor=%E2%9C%93", 400, "bad_cursor"),
])
def test_client_mistakes_are_4xx_in_the_error_shape(seeded, path, status, code):
    got, _, body = get(path)
    assert got == status, body
    if code:
        assert body["error"]["code"] == code and set(body["error"]) == {"code", "message", "details"}


# --- the OpenAPI document ----------------------------------------------------------------------


def test_openapi_json_is_open_and_lists_every_route(seeded):
    status, _, doc = get("/v1/openapi.json", authorizer=None)
    assert status == 200
    routes = {r.openapi_path for r in app._static_routes + app._dynamic_routes if r.include_in_schema}
    assert routes <= set(doc["paths"])
    assert {"/v1/creators", "/v1/creators/{creator_id}", "/v1/creators/{creator_id}/stats", "/v1/tracks/{track_id}",
            "/v1/playlists/{playlist_id}", "/v1/users/{user_id}/playlists", "/v1/stats/daily",
            "/v1/oracle/sync-stats", "/v1/oracle/logs", "/v1/health"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["apiKey"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert doc["security"] == [{"apiKey": []}]
    assert doc["paths"]["/v1/health"]["get"]["security"] == [{}]  # open
    creator = doc["paths"]["/v1/creators/{creator_id}"]["get"]["responses"]
    assert creator["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CreatorOut"}
    assert creator["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert "from" in doc["components"]["schemas"]["CreatorStatsOut"]["properties"]
    docs = lambda_handler(apigw_event("GET", "/v1/docs"), LocalContext())
    assert docs["statusCode"] == 200 and "swagger" in docs["body"].lower()
    assert "/v1/creators/{creator_id}/stats" in docs["body"] and "x-api-key" in docs["body"]  # the document


# --- database routing --------------------------------------------------------------------------


def test_reads_run_in_autocommit_under_the_request_statement_timeout(engine):
    with api_read() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "3s"
        assert conn.execute(text("SELECT now() = statement_timestamp()")).scalar_one() is True  # no open transaction
    # reads have their own autocommit pool: the writes' connections still open transactions
    with api_write() as conn:
        assert conn.connection.driver_connection.autocommit is False
        conn.execute(text("SELECT 1"))
        assert conn.connection.driver_connection.info.transaction_status == TransactionStatus.INTRANS


ANALYTICS = ["/v1/creators", "/v1/creators/{cid}/stats", "/v1/stats/daily", "/v1/oracle/sync-stats",
             "/v1/oracle/logs"]
PRIMARY = ["/v1/creators/{cid}", "/v1/tracks/{tid}", "/v1/users/{uid}/playlists"]


def test_analytics_reads_go_to_the_replica(db_url):
    """With the replica unreachable, analytics routes fail (503, in the error shape) while
    profile and catalog reads, on the primary, still answer."""
    with app_database(db_url) as engine, engine.begin() as conn:
        cid = make_creator(conn)
        ids = {"cid": cid, "tid": make_track(conn, cid, datetime.now(UTC)), "uid": make_user(conn)}
    with app_database(db_url, read_database_url=UNREACHABLE, db_connect_timeout_s=1):
        for path in PRIMARY:
            assert get(path.format(**ids))[0] == 200, path
        for path in ANALYTICS:
            status, _, body = get(path.format(**ids))
            assert (status, body["error"]["code"]) == (503, "database_unavailable"), path
    with app_database(db_url, read_database_url=db_url):  # a reachable replica: all answer
        assert get_engine(read=True) is not get_engine()
        for path in ANALYTICS + PRIMARY:
            assert get(path.format(**ids))[0] == 200, path
