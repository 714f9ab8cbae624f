"""Read API latency against a floor measured in the same run, and the api function's cold import.

    python bench/api.py [--creators 10000] [--plays 1000000] [--requests 2000] [--import-runs 11]

Seeds a throwaway database (STREAMVAULT_TEST_DATABASE_URL or DATABASE_URL's server, else an
embedded PostgreSQL), then times, in-process, one request of each in turn so that the machine's
swings hit all alike, each route reading its own random creators:
- `GET /v1/creators/{id}` and `GET /v1/creators/{id}/stats` (30 days) through the real handler;
- the floor: the same Powertools resolver with one route doing a bare psycopg primary-key lookup;
- then apart, the same two reads computed from raw `plays` instead of counters and rollups.
While the first three are timed, another process measures how late the machine wakes it from
1 ms sleeps (`machine_hiccups_while_timing`): stalls that are the machine's, not the code's.
Cold import: a fresh interpreter importing `functions.api.app`, against one importing an empty
Powertools handler with the same OpenAPI validation on (and, reported beside it, a bare one);
one of each in turn, medians of `--import-runs`. Our sources are compiled to byte code first,
as the layer ships them (infra/layer_build.py), like the installed libraries already are. Last
line: one JSON object.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from streamvault.db.engine import get_engine
from streamvault.db.seed import seed_database
from streamvault.local.apigw import LocalContext, apigw_event
from support import REPO, bench_database, connect, interleaved_latencies_ms, machine_hiccups, percentiles, report

READER = {"keyId": "bench", "scopes": "read"}


def floor_resolver(conn: psycopg.Connection) -> APIGatewayRestResolver:
    floor = APIGatewayRestResolver(enable_validation=True)

    @floor.get("/floor/<creator_id>")
    def by_id(creator_id: int) -> dict:
        row = conn.execute("SELECT id, name, play_count, follower_count FROM creators WHERE id = %s",
                           (creator_id,)).fetchone()
        return {"id": row[0], "name": row[1], "plays": row[2], "followers": row[3]}

    return floor


def raw_resolver(conn: psycopg.Connection) -> APIGatewayRestResolver:
    """The same reads, computed from raw plays (what the rollups save us)."""
    raw = APIGatewayRestResolver(enable_validation=True)

    @raw.get("/raw/creators/<creator_id>")
    def profile(creator_id: int) -> dict:
        plays = conn.execute("SELECT count(*) FROM plays WHERE creator_id = %s", (creator_id,)).fetchone()[0]
        followers = conn.execute("SELECT count(*) FROM follows WHERE creator_id = %s", (creator_id,)).fetchone()[0]
        likes = conn.execute("SELECT count(*) FROM likes l JOIN tracks t ON t.id = l.track_id WHERE t.creator_id = %s",
                             (creator_id,)).fetchone()[0]
        return {"id": creator_id, "plays": plays, "followers": followers, "likes": likes}

    @raw.get("/raw/creators/<creator_id>/stats")
    def stats(creator_id: int) -> dict:
        rows = conn.execute("""
            SELECT (played_at AT TIME ZONE 'UTC')::date AS day, count(*), sum(duration_ms)
            FROM plays WHERE creator_id = %s AND played_at >= now() - interval '30 days'
            GROUP BY 1 ORDER BY 1
        """, (creator_id,)).fetchall()
        return {"days": [[str(d), n, int(ms)] for d, n, ms in rows]}

    return raw


def compile_sources() -> None:
    """Byte code for our sources, as the deployed layer carries it (here checked against the
    sources' times, so that an edit after this run is never shadowed by stale byte code)."""
    for tree in ("functions", "layers/common/streamvault"):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / tree)], check=True)


def cold_imports_ms(statements: dict[str, str], runs: int) -> dict[str, float]:
    """The median time of each statement in a fresh interpreter, the statements run in turn
    (one of each, ``runs`` times) so that the machine's swings hit all alike."""
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(runs):
        for name, statement in statements.items():
            code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
            out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
            samples[name].append(float(out.stdout.strip().splitlines()[-1]))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=10_000)
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--import-runs", type=int, default=11, help="fresh interpreters per import measured")
    args = parser.parse_args()

    from functions.api.app import lambda_handler

    with bench_database() as url:
        seeded = seed_database(get_engine(), creators=args.creators, plays=args.plays)
        to = date.today()
        since = to - timedelta(days=29)

        def via_handler(path: str, ids: Iterator[int]):
            return lambda: lambda_handler(apigw_event("GET", path.format(next(ids)), authorizer=READER), LocalContext())

        def via(resolver: APIGatewayRestResolver, path: str, ids: Iterator[int]):
            return lambda: resolver.resolve(apigw_event("GET", path.format(next(ids))), LocalContext())

        def random_ids(seed: int) -> Iterator[int]:
            # each route its own creators: none reads rows another route has just brought in
            rng = random.Random(seed)
            return iter(lambda: rng.randint(1, args.creators), None)

        with connect(url, autocommit=True, prepare_threshold=None) as conn:
            with machine_hiccups() as hiccups:
                samples = interleaved_latencies_ms({
                    "floor": via(floor_resolver(conn), "/floor/{}", random_ids(1)),
                    "profile": via_handler("/v1/creators/{}", random_ids(2)),
                    "stats": via_handler(f"/v1/creators/{{}}/stats?from={since}&to={to}", random_ids(3)),
                }, repeat=args.requests)
            # apart: their scans of plays would push the others' pages out of the buffer cache
            samples |= interleaved_latencies_ms({
                "raw_profile": via(raw_resolver(conn), "/raw/creators/{}", random_ids(4)),
                "raw_stats": via(raw_resolver(conn), "/raw/creators/{}/stats", random_ids(5)),
            }, repeat=args.requests // 4)

    figures = {name: percentiles(s) for name, s in samples.items()}
    worse = max(("profile", "stats"), key=lambda n: figures[n]["p99_ms"])
    compile_sources()
    # The baseline is configured like ours: OpenAPI validation on (the API needs it); the bare
    # resolver's figure is reported beside it.
    resolver = "from aws_lambda_powertools.event_handler import APIGatewayRestResolver; APIGatewayRestResolver"
    imports = cold_imports_ms({"handler": "import functions.api.app", "empty": f"{resolver}(enable_validation=True)",
                               "bare": f"{resolver}()"}, runs=args.import_runs)
    handler_import, empty_import, bare_import = imports["handler"], imports["empty"], imports["bare"]
    report({
        "creators": args.creators, "plays": seeded.plays, "requests_per_route": args.requests,
        "p50_ms": figures[worse]["p50_ms"], "p99_ms": figures[worse]["p99_ms"], "worse_route": worse,
        "floor_p50_ms": figures["floor"]["p50_ms"], "floor_p99_ms": figures["floor"]["p99_ms"],
        "p99_ratio_vs_floor": round(figures[worse]["p99_ms"] / figures["floor"]["p99_ms"], 2),
        "routes": figures,
        "machine_hiccups_while_timing": hiccups,
        "raw_vs_rollup_p50_ratio": {
            "profile": round(figures["raw_profile"]["p50_ms"] / figures["profile"]["p50_ms"], 2),
            "stats": round(figures["raw_stats"]["p50_ms"] / figures["stats"]["p50_ms"], 2),
        },
        "cold_import_ms": round(handler_import, 1), "empty_handler_import_ms": round(empty_import, 1),
        "cold_import_ratio": round(handler_import / empty_import, 2),
        "bare_resolver_import_ms": round(bare_import, 1),
        "cold_import_ratio_vs_bare_resolver": round(handler_import / bare_import, 2),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    })


if __name__ == "__main__":
    main()
