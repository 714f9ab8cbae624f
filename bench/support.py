"""Shared by the benchmarks: a throwaway database, latency statistics, the JSON last line."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamvault.config import Settings, configure, reset_settings  # noqa: E402
from streamvault.db import migrate  # noqa: E402
from streamvault.db.engine import dispose_engines, get_engine  # noqa: E402
from streamvault.local.postgres import create_database, drop_database, start_embedded, unique_name  # noqa: E402


@contextmanager
def bench_database() -> Iterator[str]:
    """A new, migrated database on STREAMVAULT_TEST_DATABASE_URL / DATABASE_URL's server, else on an
    embedded one; the app's settings point at it until the block ends, then it is dropped."""
    settings = Settings()
    server = settings.test_database_url or settings.database_url
    if not server:
        # The server stops and deletes its directory when this process exits; a directory
        # removed earlier (a TemporaryDirectory) would leave it running on, unable to stop.
        server = start_embedded(Path(tempfile.mkdtemp(prefix="sv_bench_pg_")), ephemeral=True)
    name = unique_name("sv_bench")
    url = create_database(server, name)
    try:
        dispose_engines()
        configure(database_url=url)
        migrate.upgrade(get_engine())
        yield url
    finally:
        dispose_engines()
        reset_settings()
        drop_database(server, name)


def connect(url: str, **options: Any) -> psycopg.Connection:
    """psycopg, without SQLAlchemy, to the database of an app URL (``postgresql+psycopg://…``)."""
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), **options)


def interleaved_latencies_ms(
    calls: dict[str, Callable[[], Any]], repeat: int, warmup: int = 50,
) -> dict[str, list[float]]:
    """Each call ``repeat`` times, one request of each in turn: on a shared machine whose speed
    swings from second to second, every call meets the same moments, and each request follows
    the others' (no call runs in a tight loop of its own with caches warm from itself)."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    out: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            out[name].append((time.perf_counter() - started) * 1000)
    return out


def _sleep_overshoots(stop: Any, results: Any) -> None:
    overshoots = []
    while not stop.is_set():
        started = time.perf_counter()
        time.sleep(0.001)
        overshoots.append((time.perf_counter() - started) * 1000 - 1)
    results.put(overshoots)


@contextmanager
def machine_hiccups() -> Iterator[dict[str, float]]:
    """While the block runs, a separate process sleeps 1 ms at a time and records how late it
    wakes: the machine's own stalls (other tenants, the hypervisor), which no code of ours
    causes. The dict it yields is filled when the block ends."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    meter = context.Process(target=_sleep_overshoots, args=(stop, results), daemon=True)
    meter.start()
    figures: dict[str, float] = {}
    try:
        yield figures
    finally:
        stop.set()
        overshoots = sorted(results.get(timeout=60))
        meter.join()
        figures.update({
            "wakeups": len(overshoots),
            "late_over_1ms_pct": round(100 * sum(o > 1 for o in overshoots) / max(1, len(overshoots)), 2),
            "late_p99_ms": round(overshoots[int(len(overshoots) * 0.99)], 3) if overshoots else 0.0,
            "late_max_ms": round(overshoots[-1], 1) if overshoots else 0.0,
        })


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    }


def report(result: dict[str, Any]) -> None:
    """Benchmarks end with one JSON object on the last line."""
    print(json.dumps(result, sort_keys=True))


def _relay(target_host: str | None, target_port: int, socket_dir: str | None, one_way_s: float, ports: Any) -> None:
    """A TCP relay (its own process: no share of the benchmark's interpreter) that holds every
    chunk ``one_way_s`` before passing it on, in order, in both directions. Threads and
    ``time.sleep`` rather than an event loop, whose timers round up to whole milliseconds."""
    import queue
    import socket
    import threading

    def forward(source: socket.socket, sink: socket.socket) -> None:
        held: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

        def deliver() -> None:
            while (item := held.get())[1]:
                time.sleep(max(0.0, item[0] - time.monotonic()))
                sink.sendall(item[1])
            sink.close()

        threading.Thread(target=deliver, daemon=True).start()
        try:
            while chunk := source.recv(65536):
                held.put((time.monotonic() + one_way_s, chunk))
        except OSError:
            pass
        held.put((0.0, b""))

    def connect() -> socket.socket:
        if socket_dir:
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(f"{socket_dir}/.s.PGSQL.{target_port}")
        else:
            server = socket.create_connection((target_host or "127.0.0.1", target_port))
            server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return server

    listener = socket.create_server(("127.0.0.1", 0))
    ports.put(listener.getsockname()[1])
    while True:
        client, _ = listener.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = connect()
        for source, sink in ((client, server), (server, client)):
            threading.Thread(target=forward, args=(source, sink), daemon=True).start()


@contextmanager
def delayed_route(url: str, rtt_ms: float) -> Iterator[str]:
    """The same database behind a local TCP relay that adds ``rtt_ms`` to every round trip: a
    model of the network between a Lambda function, RDS Proxy and the database, which a
    benchmark on one machine does not have. Yields the URL through the relay."""
    import multiprocessing

    from sqlalchemy import make_url

    target = make_url(url)
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    relay = context.Process(target=_relay, daemon=True, args=(
        target.host, target.port or 5432, target.query.get("host"), rtt_ms / 2000, ports))
    relay.start()
    try:
        port = ports.get(timeout=30)
        yield target.set(host="127.0.0.1", port=port, query={}).render_as_string(hide_password=False)
    finally:
        relay.terminate()
        relay.join()
