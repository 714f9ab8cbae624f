"""Ingestion throughput: the real handler against the fastest raw path and the naive one.

    python bench/ingest.py [--creators 10000] [--plays 1000000] [--batches 60] [--naive 1500] [--proc-batches 30]

Seeds a throwaway database at the read API benchmark's scale (STREAMVAULT_TEST_DATABASE_URL or
DATABASE_URL's server, else an embedded PostgreSQL), then measures events per second over fresh
plays (500 per batch, tracks drawn by Zipf weight, most with a user, an IP and a user agent):
- handler: API Gateway events through ``functions.ingest.app.lambda_handler`` in-process: JSON,
  validation, privacy rules, ledger, plays, counters, rollups, engagement scores;
- copy: the same rows (already anonymized) into ``ingested_events`` and ``plays``: binary COPY into
  a temporary staging table, then ``INSERT … SELECT … ON CONFLICT DO NOTHING`` into each, one
  transaction per batch; handler and copy batches alternate so noise hits both alike;
- naive: one transaction per play, its ledger row and its play, then commit, as an ORM
  ``create`` per event does: through the SQLAlchemy ORM with the project's models (the issue's
  definition), and with raw psycopg statements (the same round trips without the ORM); on a
  smaller sample (the figures are rates);
- one event per request: the handler again, with batches of one (the same work as the handler
  per event, counters and rollups included), also a rate on a smaller sample;
- two processes against one: the handler path in one process, then in two at once;
- the handler and the ORM naive path again through a relay that adds ``--rtt-ms`` (0.5 ms) to
  every round trip (plus its own ~0.2 ms: ``rtt_select_1_ms`` is the measured round trip): a
  model of the network from a Lambda function through RDS Proxy, which this one-machine run
  lacks (commits on RDS cost more too; that is not modelled).
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, ip_interface
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session
from streamvault.config import configure
from streamvault.db.engine import dispose_engines, get_engine
from streamvault.db.models import IngestedEvent, Play
from streamvault.db.seed import seed_database
from streamvault.domain.privacy import anonymize_ip, user_agent_hash
from streamvault.local.apigw import LocalContext, apigw_event
from streamvault.services.ingest import ua_hash_key
from support import bench_database, connect, delayed_route, report

BATCH = 500
INGESTER = {"keyId": "bench", "scopes": "ingest"}
AGENTS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)", "StreamVault/3.2 Android 14",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0", "StreamVault/3.1 iOS 17.4")
SOURCES = ("stream", "playlist", "radio", "search", "profile", "embed", "other")
STAGING = """
    CREATE TEMPORARY TABLE staging (event_id uuid, played_at timestamptz, track_id bigint, creator_id bigint,
        user_id bigint, duration_ms integer, source text, country text, ip_prefix inet, ua_hash bytea)
    ON COMMIT DELETE ROWS
"""
PLAY_FIELDS = ("track_id", "creator_id", "user_id", "duration_ms", "source", "country", "ip_prefix", "ua_hash")
STAGING_TYPES = ["uuid", "timestamptz", "int8", "int8", "int8", "int4", "text", "text", "inet", "bytea"]
COPY_INSERTS = (
    "INSERT INTO ingested_events (event_id, event_type, occurred_at) "
    "SELECT event_id, 'play', played_at FROM staging ON CONFLICT DO NOTHING",
    "INSERT INTO plays (event_id, played_at, track_id, creator_id, user_id, duration_ms, source, country, "
    "ip_prefix, ua_hash) SELECT * FROM staging ON CONFLICT DO NOTHING",
)


class Catalog:
    """Tracks by Zipf weight, their creators, and user ids, read from the seeded database."""

    def __init__(self, rows: list[tuple[int, int]], users: int) -> None:
        self.tracks = [t for t, _ in rows]
        self.creator_of = dict(rows)
        self.weights = [(rank + 1) ** -1.1 for rank in range(len(rows))]
        self.users = users

    def plays(self, rng: random.Random, count: int) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        tracks = rng.choices(self.tracks, weights=self.weights, k=count)
        return [{
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": "play", "track_id": track,
            "user_id": rng.randint(1, self.users) if rng.random() < 0.8 else None,
            "played_at": (now - timedelta(seconds=rng.randint(0, 3600))).isoformat(),
            "duration_ms": rng.randint(1_000, 300_000), "source": rng.choice(SOURCES),
            "country": rng.choice(("US", "DE", "BR", "IN")),
            "ip": str(IPv4Address(rng.getrandbits(32))), "user_agent": rng.choice(AGENTS),
        } for track in tracks]


def load_catalog() -> Catalog:
    with get_engine().connect() as conn:
        rows = conn.execute(text("SELECT id, creator_id FROM tracks WHERE deleted_at IS NULL ORDER BY random()")).all()
        users = conn.execute(text("SELECT max(id) FROM users")).scalar_one()
    return Catalog([tuple(r) for r in rows], users)


def handler_call(events: list[dict[str, Any]]) -> Callable[[], None]:
    from functions.ingest.app import lambda_handler

    request = apigw_event("POST", "/v1/events", {"content-type": "application/json"}, json.dumps({"events": events}),
                          authorizer=INGESTER)

    def call() -> None:
        result = lambda_handler(request, LocalContext())
        if result["statusCode"] != 200:
            raise RuntimeError(f"ingest answered {result['statusCode']}: {result['body'][:300]}")

    return call


def raw_rows(catalog: Catalog, events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What the handler stores for these plays, computed outside the timing."""
    key = ua_hash_key()
    return [(uuid.UUID(e["event_id"]), datetime.fromisoformat(e["played_at"]), e["track_id"],
             catalog.creator_of[e["track_id"]], e["user_id"], e["duration_ms"], e["source"], e["country"],
             ip_interface(anonymize_ip(IPv4Address(e["ip"]))), user_agent_hash(key, e["user_agent"])) for e in events]


def copy_call(conn: psycopg.Connection, rows: list[tuple[Any, ...]]) -> Callable[[], None]:
    def call() -> None:
        with conn.transaction(), conn.cursor() as cursor:
            with cursor.copy("COPY staging FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(STAGING_TYPES)
                for row in rows:
                    copy.write_row(row)
            for statement in COPY_INSERTS:
                cursor.execute(statement)

    return call


def naive_orm_rate(rows: list[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    with Session(get_engine()) as session:
        for event_id, played_at, *play in rows:
            session.add(IngestedEvent(event_id=event_id, event_type="play", occurred_at=played_at))
            session.add(Play(event_id=event_id, played_at=played_at, **dict(zip(PLAY_FIELDS, play, strict=True))))
            session.commit()
    return len(rows) / (time.perf_counter() - started)


def naive_rate(conn: psycopg.Connection, rows: list[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    for row in rows:
        with conn.transaction():
            conn.execute("INSERT INTO ingested_events (event_id, event_type, occurred_at) VALUES (%s, 'play', %s)",
                         row[:2])
            conn.execute("INSERT INTO plays (event_id, played_at, track_id, creator_id, user_id, duration_ms, source, "
                         "country, ip_prefix, ua_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", row)
    return len(rows) / (time.perf_counter() - started)


def timed(call: Callable[[], None]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def per_request_rate(catalog: Catalog, rng: random.Random, count: int) -> float:
    calls = [handler_call(catalog.plays(rng, 1)) for _ in range(count)]
    started = time.perf_counter()
    for call in calls:
        call()
    return count / (time.perf_counter() - started)


def handler_vs_copy(url: str, catalog: Catalog, batches: int, naive: int) -> dict[str, float]:
    rng = random.Random(1)
    handler_calls = [handler_call(catalog.plays(rng, BATCH)) for _ in range(batches)]
    with connect(url, prepare_threshold=None) as conn:
        conn.execute(STAGING)
        conn.commit()
        copy_calls = [copy_call(conn, raw_rows(catalog, catalog.plays(rng, BATCH))) for _ in range(batches)]
        for warmup in (handler_calls.pop(), copy_calls.pop()):
            warmup()
        handler_s = copy_s = 0.0
        for handler, copy in zip(handler_calls, copy_calls, strict=True):
            handler_s += timed(handler)
            copy_s += timed(copy)
        naive_per_s = naive_rate(conn, raw_rows(catalog, catalog.plays(rng, naive)))
    naive_orm_per_s = naive_orm_rate(raw_rows(catalog, catalog.plays(rng, naive)))
    events = BATCH * len(handler_calls)
    return {"handler": events / handler_s, "copy": events / copy_s, "naive": naive_orm_per_s, "naive_raw": naive_per_s,
            "one_per_request": per_request_rate(catalog, rng, naive // 3)}


def over_network(url: str, catalog: Catalog, rtt_ms: float, batches: int, naive: int) -> dict[str, float]:
    """Handler and ORM naive rates with every round trip ``rtt_ms`` longer."""
    rng = random.Random(3)
    calls = [handler_call(catalog.plays(rng, BATCH)) for _ in range(batches + 1)]
    naive_rows = raw_rows(catalog, catalog.plays(rng, naive))
    with delayed_route(url, rtt_ms) as relayed:
        with connect(relayed, autocommit=True) as conn:
            round_trip_s = sum(timed(lambda: conn.execute("SELECT 1")) for _ in range(200)) / 200
        dispose_engines()
        configure(database_url=relayed)
        try:
            calls.pop()()  # the connection, through the relay
            handler_s = sum(timed(call) for call in calls)
            naive_per_s = naive_orm_rate(naive_rows)
        finally:
            dispose_engines()
            configure(database_url=url)
    return {"handler": BATCH * batches / handler_s, "naive": naive_per_s, "round_trip_ms": round_trip_s * 1000}


def _worker(url: str, seed: int, batches: int, start: Any, done: Any) -> None:
    configure(database_url=url)
    catalog = load_catalog()
    rng = random.Random(seed)
    calls = [handler_call(catalog.plays(rng, BATCH)) for _ in range(batches + 1)]
    calls.pop()()  # warm up: imports, the connection
    start.wait()
    for call in calls:
        call()
    done.put(BATCH * batches)


def processes_rate(url: str, processes: int, batches: int, seed: int) -> float:
    """Events per second of ``processes`` processes, each ingesting ``batches`` batches at once."""
    context = multiprocessing.get_context("spawn")
    start, done = context.Barrier(processes + 1), context.Queue()
    workers = [context.Process(target=_worker, args=(url, seed + i, batches, start, done)) for i in range(processes)]
    for worker in workers:
        worker.start()
    start.wait()
    started = time.perf_counter()
    total = sum(done.get() for _ in workers)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=10_000)
    parser.add_argument("--plays", type=int, default=1_000_000, help="seeded history")
    parser.add_argument("--batches", type=int, default=60, help="500-play batches per path")
    parser.add_argument("--naive", type=int, default=1_500, help="plays for the naive path")
    parser.add_argument("--proc-batches", type=int, default=30, help="batches per process, one and two processes")
    parser.add_argument("--rtt-ms", type=float, default=0.5, help="round trip added by the relay (network model)")
    args = parser.parse_args()

    with bench_database() as url:
        seed_database(get_engine(), creators=args.creators, plays=args.plays)
        catalog = load_catalog()
        rates = handler_vs_copy(url, catalog, args.batches, args.naive)
        one = processes_rate(url, 1, args.proc_batches, seed=100)
        two = processes_rate(url, 2, args.proc_batches, seed=200)
        relayed = over_network(url, catalog, args.rtt_ms, batches=20, naive=args.naive // 5)

    report({
        "creators": args.creators, "seeded_plays": args.plays, "tracks": len(catalog.tracks), "batch": BATCH,
        "batches": args.batches,
        "events_per_s": round(rates["handler"]), "copy_events_per_s": round(rates["copy"]),
        "naive_events_per_s": round(rates["naive"]), "naive_raw_events_per_s": round(rates["naive_raw"]),
        "one_per_request_events_per_s": round(rates["one_per_request"]),
        "one_process_events_per_s": round(one),
        "two_processes_events_per_s": round(two),
        "ratio_vs_copy": round(rates["handler"] / rates["copy"], 3),
        "ratio_vs_naive": round(rates["handler"] / rates["naive"], 1),
        "ratio_vs_naive_raw": round(rates["handler"] / rates["naive_raw"], 1),
        "ratio_vs_one_per_request": round(rates["handler"] / rates["one_per_request"], 1),
        "ratio_two_procs_vs_one": round(two / one, 3),
        "rtt_ms": args.rtt_ms, "rtt_select_1_ms": round(relayed["round_trip_ms"], 3),
        "rtt_events_per_s": round(relayed["handler"]),
        "rtt_naive_events_per_s": round(relayed["naive"]),
        "rtt_ratio_vs_naive": round(relayed["handler"] / relayed["naive"], 1),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    })


if __name__ == "__main__":
    main()
