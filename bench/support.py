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
    with tempfile.TemporaryDirectory() as tmp:
        if not server:
            server = start_embedded(Path(tmp) / "pg", ephemeral=True)
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


def latencies_ms(call: Callable[[], Any], repeat: int, warmup: int = 50) -> list[float]:
    for _ in range(warmup):
        call()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    }


def report(result: dict[str, Any]) -> None:
    """Benchmarks end with one JSON object on the last line."""
    print(json.dumps(result, sort_keys=True))
