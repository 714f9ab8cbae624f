"""Ingestion's pure rules: validation and time policy, privacy, the buffer's wire format, rollup sums."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from ipaddress import ip_address
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamvault.db.models import EVENT_TYPES, PLAY_SOURCES
from streamvault.domain.events import CLOCK_SKEW, TYPES, Source, check_items
from streamvault.domain.privacy import anonymize_ip, network_of, user_agent_hash
from streamvault.domain.rollups import Effect, Rollup
from streamvault.services import ingest_buffer

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
KEY = b"k" * 32


def play(**fields) -> dict:
    return {"event_id": str(uuid.uuid4()), "type": "play", "track_id": 1, "played_at": NOW.isoformat(),
            "duration_ms": 1000, **fields}


def check(*items: dict):
    return check_items(list(items), NOW, WEEK, KEY)


@pytest.mark.parametrize(("address", "stored"), [
    ("203.0.113.77", "203.0.113.0/24"),
    ("2001:db8:abcd:1234::1", "2001:db8:abcd::/48"),
    ("::ffff:198.51.100.9", "198.51.100.0/24"),  # an IPv4 client seen through a dual-stack socket
])
def test_ip_addresses_keep_only_their_network(address, stored):
    assert anonymize_ip(ip_address(address)) == stored


@given(st.ip_addresses(v=4).map(str) | st.text(alphabet="0123456789.:abcdef \n", max_size=20))
def test_the_fast_ipv4_path_agrees_with_ipaddress(text):
    try:
        expected = anonymize_ip(ip_address(text))
    except ValueError:
        with pytest.raises(ValueError):
            network_of(text)
    else:
        assert network_of(text) == expected


@pytest.mark.parametrize("text", ["01.2.3.4", "1.2.3.256", "1.2.3", "1.2.3.4\n", "١.2.3.4"])
def test_what_ipaddress_refuses_the_fast_path_refuses(text):
    with pytest.raises(ValueError):
        network_of(text)


def test_user_agents_hash_under_the_key():
    agent = "Mozilla/5.0 (X11; Linux x86_64)"
    assert user_agent_hash(KEY, agent) == user_agent_hash(KEY, agent)
    assert user_agent_hash(KEY, agent) != user_agent_hash(b"x" * 32, agent)
    assert len(user_agent_hash(KEY, agent)) == 32


def test_a_valid_play_is_normalized_without_its_raw_ip_or_agent():
    batch = check(play(ip="203.0.113.77", user_agent="UA/1", country="se",
                       played_at="2026-05-10T14:00:00+02:00"))
    assert batch.errors == []
    event = batch.events[0]
    assert (event.ip_prefix, event.ua_hash, event.country) == ("203.0.113.0/24", user_agent_hash(KEY, "UA/1"), "SE")
    assert event.occurred_at == NOW and event.occurred_at.tzinfo is UTC
    assert "203.0.113.77" not in repr(event) and "UA/1" not in repr(event)


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"track_id": 0}, "track_id"),
    ({"duration_ms": -1}, "duration_ms"),
    ({"source": "tv"}, "source"),
    ({"country": "SWE"}, "country"),
    ({"ip": "not-an-ip"}, "ip"),
    ({"played_at": "2026-05-10T12:00:00"}, "played_at"),  # no UTC offset
    ({"event_id": "nope"}, "event_id"),
    ({"colour": "blue"}, "colour"),  # unknown fields are refused
])
def test_invalid_items_are_per_item_errors_naming_the_field(fields, fragment):
    batch = check(play(), play(**fields))
    assert [e.index for e in batch.errors] == [1]
    assert batch.errors[0].code == "invalid_event" and fragment in batch.errors[0].message
    assert len(batch.events) == 1 and batch.indexes == [0]


def test_error_messages_never_echo_the_input():
    batch = check(play(ip="10.1.2.3.4", user_agent="x" * 2000))
    assert "10.1.2.3.4" not in batch.errors[0].message and "xxxx" not in batch.errors[0].message


@pytest.mark.parametrize("item", [
    "not an object", {"type": "dance", "event_id": str(uuid.uuid4())}, {"event_id": str(uuid.uuid4())},
])
def test_items_of_no_known_type_are_errors(item):
    assert check(item).errors[0].code == "invalid_event"


@pytest.mark.parametrize(("amount", "ok"), [
    ("1", True), (str(2**256 - 1), True), ("0", False), (str(2**256), False), (5, False), ("1e18", False),
    ("-3", False),
])
def test_amounts_are_positive_uint256_decimal_strings(amount, ok):
    tip = {"event_id": str(uuid.uuid4()), "type": "tip", "creator_id": 1, "amount_attofil": amount,
           "occurred_at": NOW.isoformat()}
    batch = check(tip)
    assert (batch.events[0].amount_attofil == int(amount)) if ok else batch.errors[0].code == "invalid_event"


@pytest.mark.parametrize(("offset", "code"), [
    (CLOCK_SKEW, None), (CLOCK_SKEW + timedelta(seconds=1), "future_event"),
    (-WEEK + timedelta(seconds=1), None), (-WEEK - timedelta(seconds=1), "too_old"),
])
def test_time_policy(offset, code):
    batch = check(play(played_at=(NOW + offset).isoformat()))
    assert (batch.errors[0].code if batch.errors else None) == code


def test_a_repeated_event_id_in_a_batch_is_a_duplicate():
    first = play()
    batch = check(first, {**first, "duration_ms": 5}, play())
    assert batch.duplicates == 1 and len(batch.events) == 2 and batch.indexes == [0, 2]
    assert batch.events[0].duration_ms == 1000  # the first copy wins


def test_the_wire_vocabularies_match_the_schema():
    assert get_args(Source) == PLAY_SOURCES
    assert set(EVENT_TYPES) == TYPES


def test_buffer_messages_round_trip():
    items = [play(ip="2001:db8::1", user_agent="UA"),
             {"event_id": str(uuid.uuid4()), "type": "comment_delete", "user_id": 3,
              "comment_event_id": str(uuid.uuid4()), "occurred_at": NOW.isoformat()},
             {"event_id": str(uuid.uuid4()), "type": "purchase", "track_id": 2, "amount_attofil": str(10**30),
              "occurred_at": NOW.isoformat()}]
    events = check(*items).events
    assert ingest_buffer.decode(ingest_buffer.encode(events, NOW)) == (events, NOW)


@pytest.mark.parametrize("body", ["", "not base64!", "aGVsbG8=", ingest_buffer.encode([], NOW)[:-4]])
def test_anything_else_is_not_a_buffer_message(body):
    with pytest.raises(ValueError):
        ingest_buffer.decode(body)


def test_rollup_sums_effects_per_row_in_key_order():
    rollup = Rollup()
    day, next_day = date(2026, 5, 10), date(2026, 5, 11)
    rollup.add(Effect(7, next_day, track_id=70, plays=1, listen_ms=100))
    rollup.add(Effect(7, day, track_id=70, plays=1, listen_ms=50))
    rollup.add(Effect(2, day, track_id=20, likes=1))
    rollup.add(Effect(2, day, track_id=20, likes=-1))
    rollup.add(Effect(2, day, follows=1))
    rollup.add(Effect(9, day, revenue_attofil=10**20))
    assert rollup.tracks() == [{"id": 20, "plays": 0, "likes": 0, "comments": 0},
                               {"id": 70, "plays": 2, "likes": 0, "comments": 0}]
    assert [(c["id"], c["plays"], c["followers"]) for c in rollup.creators()] == [(2, 0, 1), (7, 2, 0), (9, 0, 0)]
    assert [(r["creator_id"], r["day"], r["plays"], r["listen_ms"], r["follows"], r["revenue_attofil"])
            for r in rollup.creator_days()] == [(2, day, 0, 0, 1, 0), (7, day, 1, 50, 0, 0),
                                               (7, next_day, 1, 100, 0, 0), (9, day, 0, 0, 0, 10**20)]
    assert rollup.days() == [
        {"day": day, "plays": 1, "listen_ms": 50, "likes": 0, "comments": 0, "follows": 1, "revenue_attofil": 10**20},
        {"day": next_day, "plays": 1, "listen_ms": 100, "likes": 0, "comments": 0, "follows": 0,
         "revenue_attofil": 0}]


def test_a_play_added_directly_sums_like_its_effect():
    day = date(2026, 5, 10)
    direct, general = Rollup(), Rollup()
    for creator, track, listen_ms in [(7, 70, 100), (7, 71, 5), (2, 20, 9), (7, 70, 1)]:
        direct.add_play(creator, day, track, listen_ms)
        general.add(Effect(creator, day, track_id=track, plays=1, listen_ms=listen_ms))
    assert (direct.tracks(), direct.creators(), direct.creator_days(), direct.days()) == (
        general.tracks(), general.creators(), general.creator_days(), general.days())
    assert direct.days()[0]["listen_ms"] == 115


@pytest.mark.parametrize(("settings", "outcome"), [
    ({"stage": "local"}, "development"),
    ({"stage": "prod", "ua_hash_key": "ab" * 32}, bytes.fromhex("ab" * 32)),
    ({"stage": "prod"}, RuntimeError),
    ({"stage": "local", "ua_hash_key": "secret-but-not-hex"}, ValueError),
])
def test_the_user_agent_key_is_configured_and_the_development_one_stays_local(settings, outcome):
    from streamvault.config import configure, reset_settings
    from streamvault.services.ingest import ua_hash_key

    configure(**settings)
    try:
        if isinstance(outcome, type):
            with pytest.raises(outcome) as raised:
                ua_hash_key()
            assert "secret-but-not-hex" not in str(raised.value)
        elif outcome == "development":
            assert len(ua_hash_key()) == 32
        else:
            assert ua_hash_key() == outcome
    finally:
        reset_settings()
