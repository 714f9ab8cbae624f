"""Durability: the SQS ingest buffer (moto) while PostgreSQL is down or slow, and its drain."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import text
from streamvault.config import configure
from streamvault.db.engine import dispose_engines
from streamvault.local.apigw import LocalContext
from streamvault.local.sqs import create_buffer_queues, drain_once
from streamvault.services.ingest_buffer import reset_buffer_client

from functions.ingest.app import BUFFERED_HEADER, lambda_handler
from tests.conftest import fetch
from tests.integration.ingest_support import catalog, event, play, post, rollup_mismatches

CLOSED_PORT = "postgresql://nobody@127.0.0.1:1/none"


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        reset_buffer_client()
        yield boto3.client("sqs", region_name="us-east-1")
    reset_buffer_client()


@pytest.fixture
def queues(sqs) -> tuple[str, str]:
    return create_buffer_queues(sqs, max_receives=2, visibility_timeout_s=0)


@pytest.fixture
def rows(engine) -> dict[str, list[int]]:
    with engine.begin() as conn:
        return catalog(conn, creators=2, tracks_each=2, users=4)


def use(database_url: str, queue_url: str | None, **settings: Any) -> None:
    """Point the ingest function at a database (up, or a closed port) and a queue."""
    dispose_engines()
    configure(database_url=database_url, ingest_buffer_queue_url=queue_url, db_connect_timeout_s=1, **settings)


def drain(sqs: Any, queue_url: str) -> None:
    while drain_once(sqs, queue_url, lambda_handler):
        pass


def depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def stored_event_ids(db_url: str) -> list[str]:
    return [str(r.event_id) for r in fetch(db_url, "SELECT event_id FROM ingested_events")]


def mixed_batch(rows: dict[str, list[int]], n: int) -> list[dict[str, Any]]:
    tracks, users, creators = rows["tracks"], rows["users"], rows["creators"]
    out = []
    for i in range(n):
        track, user, creator = tracks[i % len(tracks)], users[i % len(users)], creators[i % len(creators)]
        out.append([play(track, user_id=user), event("like", user_id=user, track_id=track),
                    event("follow", user_id=user, creator_id=creator),
                    event("tip", creator_id=creator, amount_attofil="7")][i % 4])
    return out


def test_database_down_mid_stream_nothing_lost_nothing_doubled(engine, db_url, sqs, queues, rows):
    queue_url, dlq_url = queues
    use(db_url, queue_url)
    batches = [mixed_batch(rows, 20) for _ in range(10)]
    batches[8] = batches[8][:10] + batches[5][:10]  # a client re-sends part of a buffered batch later
    acknowledged: set[str] = set()
    answers = []
    for i, batch in enumerate([*batches, batches[4]]):  # and retries batch 4 while the database is down
        if i == 3:
            use(CLOSED_PORT, queue_url)
        if i == 7:
            use(db_url, queue_url)
        if i == 10:
            use(CLOSED_PORT, queue_url)
        status, body, headers = post(batch)
        answers.append((status, body["buffered"], headers.get(BUFFERED_HEADER)))
        if status in (200, 202):
            acknowledged |= {e["event_id"] for e in batch}
    assert answers == [(200, False, None)] * 3 + [(202, True, "true")] * 4 + [(200, False, None)] * 3 + [
        (202, True, "true")]
    assert depth(sqs, queue_url) == 5

    use(db_url, queue_url)
    drain(sqs, queue_url)
    stored = stored_event_ids(db_url)
    assert len(stored) == len(set(stored))
    assert set(stored) == acknowledged
    assert (depth(sqs, queue_url), depth(sqs, dlq_url)) == (0, 0)
    with engine.connect() as conn:
        assert rollup_mismatches(conn) == {}


def test_a_batch_over_one_message_is_queued_in_parts_and_replayed_whole(engine, db_url, sqs, queues, rows):
    queue_url, dlq_url = queues
    rng = random.Random(7)  # random text: gzip cannot shrink it under SQS's 256 KiB
    comments = [event("comment", user_id=rows["users"][i % 4], track_id=rows["tracks"][i % 4],
                      body="".join(rng.choices(string.ascii_letters, k=5_000))) for i in range(100)]
    use(CLOSED_PORT, queue_url)
    status, body, _ = post(comments)
    assert (status, body["buffered"]) == (202, True)
    assert depth(sqs, queue_url) > 1
    use(db_url, queue_url)
    drain(sqs, queue_url)
    assert sorted(stored_event_ids(db_url)) == sorted(c["event_id"] for c in comments)
    assert depth(sqs, dlq_url) == 0


def test_once_the_database_is_found_down_a_batch_tries_no_further_message(db_url, sqs, queues, rows, monkeypatch):
    from streamvault.services import ingest as ingest_service

    queue_url, _ = queues
    use(CLOSED_PORT, queue_url)
    for _ in range(3):
        assert post(mixed_batch(rows, 4))[0] == 202
    tried = []
    real_replay = ingest_service.replay
    monkeypatch.setattr(ingest_service, "replay", lambda body: (tried.append(body), real_replay(body)))
    assert drain_once(sqs, queue_url, lambda_handler) == 3  # the database still down
    assert len(tried) == 1  # not three connect timeouts in one invocation
    assert depth(sqs, queue_url) == 3  # every message back for a later try


def test_events_dropped_at_replay_are_logged_by_id(engine, db_url, sqs, queues, rows, caplog):
    queue_url, _ = queues
    gone, kept = play(rows["tracks"][0]), play(rows["tracks"][1])
    use(CLOSED_PORT, queue_url)
    assert post([gone, kept])[0] == 202  # acknowledged while the database is down
    with engine.begin() as conn:  # meanwhile the first track is deleted
        conn.execute(text("UPDATE tracks SET deleted_at = now() WHERE id = :t"), {"t": rows["tracks"][0]})
    use(db_url, queue_url)
    drain(sqs, queue_url)
    (dropped,) = [r.dropped for r in caplog.records if r.getMessage() == "buffered events dropped at replay"]
    assert dropped == [{"event_id": gone["event_id"], "code": "unknown_track"}]
    assert stored_event_ids(db_url) == [kept["event_id"]]


@pytest.mark.parametrize("queue", ["missing-queue", "unreachable-endpoint", "unconfigured"])
def test_database_and_buffer_both_down_is_a_retryable_503_with_nothing_stored(db_url, sqs, queues, rows, queue):
    queue_url, _ = queues
    settings: dict[str, Any] = {
        "missing-queue": {"queue_url": queue_url + "-gone"},
        "unreachable-endpoint": {"queue_url": queue_url, "sqs_endpoint_url": "http://127.0.0.1:1"},
        "unconfigured": {"queue_url": None},
    }[queue]
    batch = mixed_batch(rows, 8)
    use(CLOSED_PORT, **settings)
    reset_buffer_client()
    status, body, headers = post(batch)
    assert (status, body["error"]["code"], headers.get("Retry-After")) == (503, "unavailable", "5")

    use(db_url, queue_url)
    assert stored_event_ids(db_url) == [] and depth(sqs, queue_url) == 0
    status, body, _ = post(batch)  # the client's retry
    assert (status, body["stored"]) == (200, 8)


def test_a_timeout_buffers_the_batch_and_rolls_back_what_it_had_written(engine, db_url, sqs, queues, rows):
    queue_url, _ = queues
    use(db_url, queue_url, db_lock_timeout_ms=200)
    batch = [play(rows["tracks"][0]) for _ in range(5)]
    with engine.connect() as blocker, blocker.begin():
        blocker.execute(text("LOCK TABLE daily_stats IN EXCLUSIVE MODE"))  # the last table a batch writes
        status, body, _ = post(batch)
        assert (status, body["buffered"]) == (202, True)
    assert stored_event_ids(db_url) == []  # the plays written before the timeout were rolled back

    drain(sqs, queue_url)
    assert sorted(stored_event_ids(db_url)) == sorted(e["event_id"] for e in batch)


def test_messages_failing_while_the_database_is_down_stay_queued(db_url, sqs, queues, rows):
    queue_url, dlq_url = queues
    use(CLOSED_PORT, queue_url)
    assert post(mixed_batch(rows, 4))[0] == 202
    assert drain_once(sqs, queue_url, lambda_handler) == 1  # one of the two receives the redrive allows
    assert (depth(sqs, queue_url), depth(sqs, dlq_url)) == (1, 0)

    use(db_url, queue_url)
    drain(sqs, queue_url)
    assert len(stored_event_ids(db_url)) == 4 and depth(sqs, queue_url) == 0


def test_poison_messages_fail_alone_and_end_in_the_dead_letter_queue(db_url, sqs, queues, rows):
    queue_url, dlq_url = queues
    use(CLOSED_PORT, queue_url)
    assert post(mixed_batch(rows, 4))[0] == 202
    sqs.send_message(QueueUrl=queue_url, MessageBody="not an ingest batch")
    use(db_url, queue_url)

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "eventSource": "aws:sqs", "attributes": {}, "messageAttributes": {}} for m in messages]
    result = lambda_handler({"Records": records}, LocalContext())
    poison = next(m["MessageId"] for m in messages if m["Body"] == "not an ingest batch")
    assert result == {"batchItemFailures": [{"itemIdentifier": poison}]}  # the good batch was written
    assert len(stored_event_ids(db_url)) == 4

    drain(sqs, queue_url)  # more receives than maxReceiveCount: moved to the dead-letter queue
    assert depth(sqs, queue_url) == 0
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["not an ingest batch"]
