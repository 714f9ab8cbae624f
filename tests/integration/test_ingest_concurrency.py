"""Several ingest invocations at once: no lost update, no double count, no deadlock."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text
from streamvault.config import configure
from streamvault.db.engine import dispose_engines

from tests.integration.ingest_support import catalog, event, play, post, rollup_mismatches

WRITERS = 6
BATCHES_PER_WRITER = 8
BATCH = 60


def random_event(rng: random.Random, rows: dict[str, list[int]], comments: list[tuple[str, int]]) -> dict[str, Any]:
    track, user, creator = rng.choice(rows["tracks"]), rng.choice(rows["users"]), rng.choice(rows["creators"])
    kind = rng.choices(["play", "like", "unlike", "follow", "unfollow", "comment", "comment_delete", "tip"],
                       weights=[50, 12, 6, 8, 4, 8, 4, 8])[0]
    if kind == "play":
        return play(track, user_id=rng.choice([user, None]), duration_ms=rng.randint(1, 300_000))
    if kind in ("like", "unlike"):
        return event(kind, user_id=user, track_id=track)
    if kind in ("follow", "unfollow"):
        return event(kind, user_id=user, creator_id=creator)
    if kind == "comment":
        made = event("comment", user_id=user, track_id=track, body="hello")
        comments.append((made["event_id"], user))
        return made
    if kind == "comment_delete" and comments:
        comment_id, author = rng.choice(comments)
        return event("comment_delete", user_id=author, comment_event_id=comment_id)
    return event("tip", creator_id=creator, amount_attofil=str(rng.randint(1, 10**20)))


def test_concurrent_writers_keep_every_counter_and_rollup_exact(engine, db_url):
    with engine.begin() as conn:
        rows = catalog(conn, creators=3, tracks_each=3, users=6)
    dispose_engines()
    configure(database_url=db_url, db_pool_size=WRITERS, db_max_overflow=0)
    rng = random.Random(7)
    comments: list[tuple[str, int]] = []
    batches = [[random_event(rng, rows, comments) for _ in range(BATCH)] for _ in range(WRITERS * BATCHES_PER_WRITER)]
    # Every batch is sent twice, by two different writers, so the same events race each other.
    work = [batches[i::WRITERS] + batches[(i + 1) % WRITERS::WRITERS] for i in range(WRITERS)]

    def writer(mine: list[list[dict[str, Any]]]) -> list[tuple[int, int, int]]:
        out = []
        for batch in mine:
            status, body, _ = post(batch)
            out.append((status, body.get("stored", 0), body.get("duplicates", 0)))
        return out

    with ThreadPoolExecutor(WRITERS) as pool:
        results = [r for answers in pool.map(writer, work) for r in answers]

    assert {status for status, _, _ in results} == {200}
    distinct = {e["event_id"] for batch in batches for e in batch}
    assert sum(stored for _, stored, _ in results) == len(distinct)
    assert sum(stored + duplicates for _, stored, duplicates in results) == 2 * sum(len(b) for b in batches)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ingested_events")).scalar_one() == len(distinct)
        plays = sum(1 for batch in batches for e in batch if e["type"] == "play")
        assert conn.execute(text("SELECT sum(plays) FROM daily_stats")).scalar_one() == plays
        assert rollup_mismatches(conn) == {}


def test_writers_sharing_one_hot_track_lose_no_update(engine, db_url):
    with engine.begin() as conn:
        rows = catalog(conn, creators=1, tracks_each=1, users=1)
    dispose_engines()
    configure(database_url=db_url, db_pool_size=WRITERS, db_max_overflow=0)
    track = rows["tracks"][0]

    def writer(_: int) -> int:
        return sum(post([play(track) for _ in range(50)])[1]["stored"] for _ in range(5))

    with ThreadPoolExecutor(WRITERS) as pool:
        stored = sum(pool.map(writer, range(WRITERS)))
    assert stored == WRITERS * 5 * 50
    with engine.connect() as conn:
        assert conn.execute(text("SELECT play_count FROM tracks WHERE id = :t"), {"t": track}).scalar_one() == stored
        assert rollup_mismatches(conn) == {}
