"""Per-key token buckets: the local server's stand-in for API Gateway's usage-plan throttling.

Each key's bucket holds up to ``burst`` tokens and refills at ``rate_per_s``; a request takes one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()  # the local server answers requests on many threads

    def try_acquire(self, key_id: str, rate_per_s: float, burst: int) -> float | None:
        """Take a token: None when allowed, else the seconds until one is available."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(key_id, _Bucket(tokens=burst, updated_at=now))
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated_at) * rate_per_s)
            bucket.updated_at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return (1 - bucket.tokens) / rate_per_s
