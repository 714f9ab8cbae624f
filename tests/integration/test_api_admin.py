"""Administrator routes through the API handler, checked in the database: writes, validation,
conflicts, counters, wallet encryption, the GDPR erasure, and the audit log."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from streamvault.local.apigw import LocalContext, apigw_event
from streamvault.wallets import find_creator_by_wallet, read_wallet

from functions.api.app import lambda_handler
from tests.integration.factories import make_creator, make_play, make_track, make_user

ADMIN = {"keyId": "admin-key", "scopes": "admin"}
ACTOR = "api-key:admin-key"
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
OTHER_WALLET = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"


def call(method: str, path: str, body: Any = None, authorizer: dict | None = ADMIN) -> tuple[int, Any]:
    event = apigw_event(method, path, headers={"content-type": "application/json"},
                        body=None if body is None else json.dumps(body), authorizer=authorizer)
    result = lambda_handler(event, LocalContext())
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def audit_rows(conn: Connection, entity_type: str, entity_id: int) -> list[Any]:
    return conn.execute(
        text("SELECT actor, action, before, after, created_at FROM audit_log "
             "WHERE entity_type = :t AND entity_id = :id ORDER BY id"),
        {"t": entity_type, "id": str(entity_id)},
    ).all()


def actions(conn: Connection, entity_type: str, entity_id: int) -> list[tuple[str, str]]:
    return [(r.actor, r.action) for r in audit_rows(conn, entity_type, entity_id)]


def db_now(engine: Engine) -> datetime:
    """The database's clock, which stamps audit rows."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT now()")).scalar_one()


def row(conn: Connection, table: str, row_id: int) -> Any:
    return conn.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).one()


def assert_error(status: int, body: Any, expected_status: int, code: str) -> None:
    assert (status, body["error"]["code"]) == (expected_status, code), body
    assert set(body["error"]) == {"code", "message", "details"}


def create_user(username: str, **fields: Any) -> dict:
    status, body = call("POST", "/v1/users", {"username": username, **fields})
    assert status == 201, body
    return body


# --- users ---------------------------------------------------------------------------------------


def test_create_and_update_a_user(engine: Engine):
    started = db_now(engine)
    user = create_user("alice", email="alice@example.test", display_name="Alice A", country="FR")
    assert user["username"] == "alice" and user["email"] == "alice@example.test"

    created_by = db_now(engine)
    status, body = call("PATCH", f"/v1/users/{user['id']}", {"display_name": "Alice B", "country": None})
    assert status == 200
    finished = db_now(engine)
    assert (body["display_name"], body["country"], body["email"]) == ("Alice B", None, "alice@example.test")

    with engine.connect() as conn:
        stored = row(conn, "users", user["id"])
        assert (stored.username, stored.email, stored.display_name, stored.country) == (
            "alice", "alice@example.test", "Alice B", None)
        assert conn.execute(text("SELECT sum(new_users) FROM daily_stats")).scalar_one() == 1
        created, updated = audit_rows(conn, "user", user["id"])
    assert (created.actor, created.action, created.before) == (ACTOR, "user.create", None)
    # when: each row is stamped during its own request
    assert started <= created.created_at <= created_by <= updated.created_at <= finished
    assert created.after == {"username": "[redacted]", "email": "[redacted]", "display_name": "[redacted]",
                             "country": "[redacted]"}
    # only what changed, personal values redacted
    assert (updated.action, updated.before, updated.after) == (
        "user.update", {"display_name": "[redacted]", "country": "[redacted]"},
        {"display_name": "[redacted]", "country": None})


@pytest.mark.parametrize("body", [
    {"username": "has space"},
    {"username": "x" * 65},
    {"username": ""},
    {"username": "ok", "email": "not-an-email"},
    {"username": "ok", "country": "fra"},
    {"username": "ok", "display_name": "d" * 129},
    {"username": "ok", "is_admin": True},  # extra fields are refused
    {},
])
def test_user_bodies_are_validated(engine: Engine, body: dict):
    status, out = call("POST", "/v1/users", body)
    assert_error(status, out, 422, "validation_error")
    assert out["error"]["details"] and all(d["loc"][0] == "body" for d in out["error"]["details"])


@pytest.mark.parametrize(("body", "message"), [
    ({}, "send at least one field to change"),
    ({"username": None}, "username cannot be null"),
])
def test_a_patch_must_change_something_and_keep_required_fields(engine: Engine, body: dict, message: str):
    user = create_user("bob")
    status, out = call("PATCH", f"/v1/users/{user['id']}", body)
    assert_error(status, out, 422, "validation_error")
    assert message in out["error"]["details"][0]["message"]


def test_usernames_are_unique_among_live_users_ignoring_case(engine: Engine):
    alice = create_user("Alice")
    bob = create_user("bob")
    assert_error(*call("POST", "/v1/users", {"username": "alice"}), 409, "conflict")
    assert_error(*call("PATCH", f"/v1/users/{bob['id']}", {"username": "ALICE"}), 409, "conflict")
    assert call("PATCH", f"/v1/users/{alice['id']}", {"username": "alice"})[0] == 200  # its own name, recased

    assert call("DELETE", f"/v1/users/{alice['id']}")[0] == 204
    assert call("POST", "/v1/users", {"username": "alice"})[0] == 201  # an erased account frees its name
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE username = 'bob'")).scalar_one() == 1


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PATCH", "/v1/users/999999", {"display_name": "x"}),
    ("DELETE", "/v1/users/999999", None),
    ("PATCH", "/v1/creators/999999", {"name": "x"}),
    ("PATCH", "/v1/tracks/999999", {"title": "x"}),
    ("DELETE", "/v1/tracks/999999", None),
    ("PATCH", "/v1/playlists/999999", {"name": "x"}),
    ("PUT", "/v1/playlists/999999/tracks", {"track_ids": []}),
])
def test_unknown_ids_in_the_path_are_404(engine: Engine, method: str, path: str, body: Any):
    assert_error(*call(method, path, body), 404, "not_found")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0


# --- auth ----------------------------------------------------------------------------------------

VALID_REQUESTS = [
    ("POST", "/v1/users", {"username": "carol"}),
    ("PATCH", "/v1/users/1", {"display_name": "x"}),
    ("DELETE", "/v1/users/1", None),
    ("POST", "/v1/creators", {"user_id": 1, "name": "x"}),
    ("PATCH", "/v1/creators/1", {"name": "x"}),
    ("POST", "/v1/tracks", {"creator_id": 1, "title": "x", "duration_ms": 1000}),
    ("PATCH", "/v1/tracks/1", {"title": "x"}),
    ("DELETE", "/v1/tracks/1", None),
    ("POST", "/v1/playlists", {"owner_id": 1, "name": "x"}),
    ("PATCH", "/v1/playlists/1", {"name": "x"}),
    ("PUT", "/v1/playlists/1/tracks", {"track_ids": []}),
]


@pytest.mark.parametrize(("method", "path", "body"), VALID_REQUESTS)
def test_admin_routes_need_the_admin_scope(engine: Engine, method: str, path: str, body: Any):
    assert_error(*call(method, path, body, authorizer=None), 401, "unauthorized")
    assert_error(*call(method, path, body, authorizer={"keyId": "reader", "scopes": "read,ingest"}), 403, "forbidden")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


# --- creators and wallets ------------------------------------------------------------------------


def test_a_creator_wallet_is_stored_encrypted_and_readable(engine: Engine):
    user = create_user("dana")
    status, creator = call("POST", "/v1/creators", {"user_id": user["id"], "name": "Dana", "bio": "Songs",
                                                     "wallet_address": WALLET})
    assert status == 201
    assert creator["wallet_address"] == WALLET.lower() and creator["verified"] is False

    with engine.connect() as conn:
        stored = row(conn, "creators", creator["id"])
        assert (stored.user_id, stored.name, stored.bio) == (user["id"], "Dana", "Songs")
        ciphertext = bytes(stored.wallet_ciphertext)
        for clear in (WALLET.lower().encode(), WALLET[2:].encode(), WALLET[2:].lower().encode(),
                      bytes.fromhex(WALLET[2:])):
            assert clear not in ciphertext
        assert read_wallet(conn, creator["id"]) == WALLET.lower()
        assert find_creator_by_wallet(conn, WALLET) == creator["id"]
        (audit,) = audit_rows(conn, "creator", creator["id"])
    assert (audit.actor, audit.action) == (ACTOR, "creator.create")
    assert audit.after == {"user_id": user["id"], "name": "[redacted]", "bio": "[redacted]", "verified": False,
                           "wallet": "[encrypted]", "market_cap_attofil": None}


def test_update_a_creator_and_its_wallet(engine: Engine):
    first = call("POST", "/v1/creators", {"user_id": create_user("erin")["id"], "name": "Erin"})[1]
    second = call("POST", "/v1/creators", {"user_id": create_user("finn")["id"], "name": "Finn",
                                           "wallet_address": OTHER_WALLET})[1]
    path = f"/v1/creators/{first['id']}"

    status, body = call("PATCH", path, {"verified": True, "wallet_address": WALLET})
    assert (status, body["verified"], body["wallet_address"]) == (200, True, WALLET.lower())
    assert call("PATCH", path, {"wallet_address": WALLET.lower()})[0] == 200  # the same wallet again
    assert_error(*call("PATCH", path, {"wallet_address": OTHER_WALLET}), 409, "conflict")
    status, body = call("PATCH", path, {"wallet_address": "0x1234"})
    assert_error(status, body, 422, "validation_error")
    assert "0x followed by 40 hexadecimal digits" in body["error"]["details"][0]["message"]
    status, body = call("PATCH", path, {"wallet_address": None})
    assert (status, body["wallet_address"]) == (200, None)

    with engine.connect() as conn:
        stored = row(conn, "creators", first["id"])
        assert (stored.verified, stored.wallet_ciphertext, stored.wallet_blind_index) == (True, None, None)
        assert read_wallet(conn, second["id"]) == OTHER_WALLET.lower()
        updates = [(r.action, r.before, r.after) for r in audit_rows(conn, "creator", first["id"])][1:]
        audit_text = conn.execute(text("SELECT string_agg(before::text || after::text, ' ') FROM audit_log")).scalar()
    assert updates == [
        ("creator.update", {"verified": False, "wallet": None}, {"verified": True, "wallet": "[encrypted]"}),
        ("creator.update", {}, {}),  # same address: the wallet did not change
        ("creator.update", {"wallet": "[encrypted]"}, {"wallet": None}),
    ]
    assert WALLET[2:].lower() not in audit_text.lower() and OTHER_WALLET[2:].lower() not in audit_text.lower()


def test_creator_references_and_conflicts(engine: Engine):
    user = create_user("gus")
    assert call("POST", "/v1/creators", {"user_id": user["id"], "name": "Gus"})[0] == 201
    assert_error(*call("POST", "/v1/creators", {"user_id": user["id"], "name": "Gus again"}), 409, "conflict")
    status, body = call("POST", "/v1/creators", {"user_id": 999999, "name": "Nobody"})
    assert_error(status, body, 400, "unknown_reference")
    assert body["error"]["details"] == {"field": "user_id", "ids": [999999]}


# --- tracks --------------------------------------------------------------------------------------


def test_create_update_and_delete_a_track_keeps_creator_counters(engine: Engine):
    with engine.begin() as conn:
        creator_id = make_creator(conn, plays=1000, likes=50, comments=8)
        conn.execute(text("UPDATE creators SET track_count = 1, metrics_changed_at = now() - interval '1 day'"))
    price = str(12 * 10**36)  # past bigint and float precision
    status, track = call("POST", "/v1/tracks", {"creator_id": creator_id, "title": " Song ", "genre": "jazz",
                                               "duration_ms": 200_000, "price_attofil": price,
                                               "released_at": "2024-05-01T12:00:00Z"})
    assert status == 201
    assert (track["title"], track["price_attofil"], track["released_at"]) == ("Song", price, "2024-05-01T12:00:00Z")
    with engine.begin() as conn:
        assert row(conn, "creators", creator_id).track_count == 2
        assert row(conn, "creators", creator_id).metrics_changed_at > datetime.now(UTC) - timedelta(minutes=1)
        assert row(conn, "tracks", track["id"]).price_attofil == int(price)
        conn.execute(text("UPDATE tracks SET play_count = 400, like_count = 20, comment_count = 3 WHERE id = :id"),
                     {"id": track["id"]})

    status, body = call("PATCH", f"/v1/tracks/{track['id']}", {"genre": None, "price_attofil": "0"})
    assert (status, body["genre"], body["price_attofil"], body["play_count"]) == (200, None, "0", 400)
    assert call("DELETE", f"/v1/tracks/{track['id']}")[0] == 204

    with engine.connect() as conn:
        creator = row(conn, "creators", creator_id)
        assert (creator.track_count, creator.play_count, creator.like_count, creator.comment_count) == (1, 600, 30, 5)
        assert row(conn, "tracks", track["id"]).deleted_at is not None
        assert [a for _, a in actions(conn, "track", track["id"])] == ["track.create", "track.update", "track.delete"]
        update = audit_rows(conn, "track", track["id"])[1]
    assert (update.before, update.after) == ({"genre": "jazz", "price_attofil": price}, {"genre": None,
                                                                                         "price_attofil": "0"})
    assert_error(*call("PATCH", f"/v1/tracks/{track['id']}", {"title": "x"}), 404, "not_found")
    assert_error(*call("DELETE", f"/v1/tracks/{track['id']}"), 404, "not_found")


@pytest.mark.parametrize("changes", [
    {"price_attofil": "1.5"}, {"price_attofil": "-1"}, {"price_attofil": "01"}, {"price_attofil": 5},
    {"duration_ms": 0}, {"title": "   "}, {"released_at": "2024-05-01T12:00:00"},  # a time needs its zone
])
def test_track_bodies_are_validated(engine: Engine, changes: dict):
    with engine.begin() as conn:
        creator_id = make_creator(conn)
    body = {"creator_id": creator_id, "title": "Song", "duration_ms": 1000, **changes}
    assert_error(*call("POST", "/v1/tracks", body), 422, "validation_error")


def test_a_track_needs_a_live_creator(engine: Engine):
    with engine.begin() as conn:
        creator_id = make_creator(conn)
        conn.execute(text("UPDATE creators SET deleted_at = now()"))
    status, body = call("POST", "/v1/tracks", {"creator_id": creator_id, "title": "Song", "duration_ms": 1000})
    assert_error(status, body, 400, "unknown_reference")
    assert body["error"]["details"] == {"field": "creator_id", "ids": [creator_id]}


# --- playlists -----------------------------------------------------------------------------------


def entries(conn: Connection, playlist_id: int) -> list[tuple[int, int, datetime]]:
    return [tuple(r) for r in conn.execute(text(
        "SELECT position, track_id, added_at FROM playlist_entries WHERE playlist_id = :p ORDER BY position"
    ), {"p": playlist_id})]


def test_playlists_are_created_renamed_and_reordered(engine: Engine):
    released = datetime.now(UTC) - timedelta(days=10)
    with engine.begin() as conn:
        owner = make_user(conn)
        creator_id = make_creator(conn)
        a, b, c, d = (make_track(conn, creator_id, released) for _ in range(4))
    status, playlist = call("POST", "/v1/playlists", {"owner_id": owner, "name": "Mix", "track_ids": [a, b, c]})
    assert (status, playlist["track_ids"], playlist["is_public"]) == (201, [a, b, c], True)
    path = f"/v1/playlists/{playlist['id']}"
    with engine.begin() as conn:
        conn.execute(text("UPDATE playlist_entries SET added_at = now() - interval '1 day'"))
        added = {track: at for _, track, at in entries(conn, playlist["id"])}

    status, body = call("PATCH", path, {"name": "Mix 2", "is_public": False, "description": "late"})
    assert (status, body["name"], body["is_public"], body["track_ids"]) == (200, "Mix 2", False, [a, b, c])
    status, body = call("PUT", f"{path}/tracks", {"track_ids": [c, a, d, a]})
    assert (status, body["track_ids"]) == (200, [c, a, d, a])

    with engine.connect() as conn:
        got = entries(conn, playlist["id"])
        assert [(p, t) for p, t, _ in got] == [(0, c), (1, a), (2, d), (3, a)]
        assert got[0][2] == added[c] and got[1][2] == added[a]  # entries that stay keep their added_at
        assert got[2][2] > added[a] and got[3][2] > added[a]
        stored = row(conn, "playlists", playlist["id"])
        assert (stored.name, stored.description, stored.is_public) == ("Mix 2", "late", False)
        audits = audit_rows(conn, "playlist", playlist["id"])
    assert [(r.actor, r.action) for r in audits] == [
        (ACTOR, "playlist.create"), (ACTOR, "playlist.update"), (ACTOR, "playlist.set_tracks")]
    assert audits[0].after["track_ids"] == [a, b, c] and audits[0].after["name"] == "[redacted]"
    assert (audits[2].before, audits[2].after) == ({"track_ids": [a, b, c]}, {"track_ids": [c, a, d, a]})

    assert call("PUT", f"{path}/tracks", {"track_ids": []})[1]["track_ids"] == []
    with engine.connect() as conn:
        assert entries(conn, playlist["id"]) == []


def test_a_playlist_refuses_unknown_or_deleted_tracks(engine: Engine):
    released = datetime.now(UTC) - timedelta(days=10)
    with engine.begin() as conn:
        owner = make_user(conn)
        creator_id = make_creator(conn)
        live = make_track(conn, creator_id, released)
        deleted = make_track(conn, creator_id, released, deleted=True)
    playlist = call("POST", "/v1/playlists", {"owner_id": owner, "name": "Mix", "track_ids": [live]})[1]

    status, body = call("PUT", f"/v1/playlists/{playlist['id']}/tracks", {"track_ids": [deleted, live, 999999]})
    assert_error(status, body, 400, "unknown_reference")
    assert body["error"]["details"] == {"field": "track_ids", "ids": sorted([deleted, 999999])}
    assert_error(*call("PUT", f"/v1/playlists/{playlist['id']}/tracks", {"track_ids": [0]}), 422, "validation_error")
    assert_error(*call("POST", "/v1/playlists", {"owner_id": 999999, "name": "x"}), 400, "unknown_reference")
    with engine.connect() as conn:
        assert [t for _, t, _ in entries(conn, playlist["id"])] == [live]
        assert [a for _, a in actions(conn, "playlist", playlist["id"])] == ["playlist.create"]


# --- GDPR erasure --------------------------------------------------------------------------------

TOTALS = """
SELECT
    (SELECT row(sum(play_count), sum(like_count), sum(comment_count), sum(follower_count), sum(track_count))::text
     FROM creators),
    (SELECT row(sum(play_count), sum(like_count), sum(comment_count))::text FROM tracks),
    (SELECT row(sum(plays), sum(listen_ms), sum(likes), sum(comments), sum(follows), sum(unfollows),
                sum(revenue_attofil))::text FROM creator_daily_stats),
    (SELECT row(sum(plays), sum(listen_ms), sum(likes), sum(comments), sum(follows), sum(new_users),
                sum(revenue_attofil))::text FROM daily_stats),
    (SELECT count(*) FROM plays), (SELECT count(*) FROM comments WHERE deleted_at IS NULL),
    (SELECT count(*) FROM likes), (SELECT count(*) FROM follows)
"""


def _interactions(conn: Connection, user_id: int, creator_id: int, track_id: int, comment: str) -> None:
    """Plays, a like, a follow and comments by the user, counted in counters and rollups."""
    day = datetime.now(UTC) - timedelta(days=1)
    for _ in range(3):
        event = make_play(conn, track_id, creator_id, day)
        conn.execute(text("UPDATE plays SET user_id = :u, country = 'FR' WHERE event_id = :e"),
                     {"u": user_id, "e": event})
    conn.execute(text("INSERT INTO likes (user_id, track_id) VALUES (:u, :t)"), {"u": user_id, "t": track_id})
    conn.execute(text("INSERT INTO follows (user_id, creator_id) VALUES (:u, :c)"), {"u": user_id, "c": creator_id})
    for body in (comment, "deleted later"):
        conn.execute(text("""
            INSERT INTO comments (event_id, user_id, track_id, body, deleted_at)
            VALUES (:e, :u, :t, :b, CASE WHEN :b = 'deleted later' THEN now() END)
        """), {"e": uuid.uuid4(), "u": user_id, "t": track_id, "b": body})
    conn.execute(text("""
        UPDATE tracks SET play_count = play_count + 3, like_count = like_count + 1, comment_count = comment_count + 1
        WHERE id = :t
    """), {"t": track_id})
    conn.execute(text("""
        UPDATE creators SET play_count = play_count + 3, like_count = like_count + 1, comment_count = comment_count + 1,
                            follower_count = follower_count + 1
        WHERE id = :c
    """), {"c": creator_id})
    conn.execute(text("""
        INSERT INTO creator_daily_stats (creator_id, day, plays, listen_ms, likes, comments, follows)
        VALUES (:c, :d, 3, 3000, 1, 1, 1)
    """), {"c": creator_id, "d": day.date()})
    conn.execute(text("""
        INSERT INTO daily_stats AS s (day, plays, listen_ms, likes, comments, follows)
        VALUES (:d, 3, 3000, 1, 1, 1)
        ON CONFLICT (day) DO UPDATE SET plays = s.plays + 3, listen_ms = s.listen_ms + 3000, likes = s.likes + 1,
                                        comments = s.comments + 1, follows = s.follows + 1
    """), {"d": day.date()})


def test_erasure_removes_personal_data_and_keeps_every_total(engine: Engine):
    personal = {"username": "gina_g", "email": "gina@example.test", "display_name": "Gina Gonzalez"}
    gina = create_user(personal["username"], email=personal["email"], display_name=personal["display_name"],
                       country="ES")
    gina_creator = call("POST", "/v1/creators", {"user_id": gina["id"], "name": "Gina Gonzalez Band",
                                                 "bio": "Gina from Sevilla", "wallet_address": WALLET})[1]
    released = datetime.now(UTC) - timedelta(days=5)
    with engine.begin() as conn:
        other_creator = make_creator(conn)
        other_track = make_track(conn, other_creator, released)
        own_track = make_track(conn, gina_creator["id"], released)
        _interactions(conn, gina["id"], other_creator, other_track, f"first! write to {personal['email']}")
        fan = make_user(conn)
        _interactions(conn, fan, gina_creator["id"], own_track, "nice")
    playlist = call("POST", "/v1/playlists", {"owner_id": gina["id"], "name": "Gina's wedding",
                                              "track_ids": [other_track, own_track]})[1]
    call("PATCH", f"/v1/users/{gina['id']}", {"display_name": personal["display_name"] + " II"})
    with engine.connect() as conn:
        totals_before = conn.execute(text(TOTALS)).one()

    assert call("DELETE", f"/v1/users/{gina['id']}") == (204, None)

    with engine.connect() as conn:
        assert conn.execute(text(TOTALS)).one() == totals_before
        user = row(conn, "users", gina["id"])
        assert (user.username, user.email, user.display_name, user.country) == (f"erased-{gina['id']}", None, None,
                                                                               None)
        assert user.deleted_at is not None
        creator = row(conn, "creators", gina_creator["id"])
        assert (creator.name, creator.bio, creator.wallet_ciphertext, creator.wallet_blind_index) == (
            f"erased-creator-{gina_creator['id']}", None, None, None)
        assert creator.deleted_at is None  # the catalog and its counters stay, anonymized
        assert find_creator_by_wallet(conn, WALLET) is None
        assert set(conn.execute(text("SELECT body FROM comments WHERE user_id = :u"), {"u": gina["id"]}).scalars()) \
            == {"[erased]"}
        assert conn.execute(text("SELECT count(*) FROM playlists WHERE owner_id = :u"), {"u": gina["id"]}).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM playlist_entries WHERE playlist_id = :p"),
                            {"p": playlist["id"]}).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM plays WHERE user_id = :u"), {"u": gina["id"]}).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM plays WHERE user_id = :u"), {"u": fan}).scalar() == 3
        everything = conn.execute(text("""
            SELECT concat_ws(' ', (SELECT string_agg(u::text, ' ') FROM users u),
                                  (SELECT string_agg(c::text, ' ') FROM creators c),
                                  (SELECT string_agg(c::text, ' ') FROM comments c),
                                  (SELECT string_agg(p::text, ' ') FROM playlists p),
                                  (SELECT string_agg(a::text, ' ') FROM audit_log a))
        """)).scalar_one().lower()
        for value in (*personal.values(), "gonzalez", "sevilla", "wedding", WALLET[2:]):
            assert value.lower() not in everything, value
        erase = audit_rows(conn, "user", gina["id"])[-1]
    assert (erase.actor, erase.action) == (ACTOR, "user.erase")
    assert erase.before == {"username": "[redacted]", "email": "[redacted]", "display_name": "[redacted]",
                            "country": "[redacted]"}
    assert erase.after == {"comments_erased": 2, "playlists_deleted": 1, "plays_unlinked": 3,
                           "creator_id": gina_creator["id"]}

    # idempotent as a 404: the account is gone for every write, erasure included
    assert_error(*call("DELETE", f"/v1/users/{gina['id']}"), 404, "not_found")
    assert_error(*call("PATCH", f"/v1/users/{gina['id']}", {"display_name": "x"}), 404, "not_found")
    with engine.connect() as conn:
        assert [a for _, a in actions(conn, "user", gina["id"])].count("user.erase") == 1
        assert conn.execute(text(TOTALS)).one() == totals_before


def test_erasing_a_listener_without_creator_account(engine: Engine):
    user = create_user("hal", email="hal@example.test")
    assert call("DELETE", f"/v1/users/{user['id']}")[0] == 204
    with engine.connect() as conn:
        (erase,) = [r for r in audit_rows(conn, "user", user["id"]) if r.action == "user.erase"]
    assert erase.after == {"comments_erased": 0, "playlists_deleted": 0, "plays_unlinked": 0, "creator_id": None}
    assert erase.before == {"username": "[redacted]", "email": "[redacted]", "display_name": None, "country": None}


def test_an_admin_records_a_market_cap_and_a_tenth_counts_as_monthly_revenue(engine):
    from datetime import UTC, datetime

    from streamvault.db.repositories.creators import creator_metrics

    with engine.begin() as conn:
        cid = make_creator(conn)
    cap = 123 * 10**18 + 5
    status, body = call("PATCH", f"/v1/creators/{cid}", {"market_cap_attofil": str(cap)})
    assert status == 200 and body["market_cap_attofil"] == str(cap)
    with engine.connect() as conn:
        assert creator_metrics(conn, cid, datetime.now(UTC)).monthly_revenue_attofil == cap // 10
    status, body = call("PATCH", f"/v1/creators/{cid}", {"market_cap_attofil": "-1"})
    assert status == 422
