"""The local server's per-key token buckets, on a clock the tests move by hand."""

from __future__ import annotations

import threading

import pytest
from streamvault.api.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_full_bucket_allows_the_burst_then_says_when_the_next_token_comes(clock):
    limiter = RateLimiter(clock)
    assert [limiter.try_acquire("k", rate_per_s=2, burst=3) for _ in range(3)] == [None] * 3
    assert limiter.try_acquire("k", rate_per_s=2, burst=3) == pytest.approx(0.5)
    clock.now += 0.2
    assert limiter.try_acquire("k", rate_per_s=2, burst=3) == pytest.approx(0.3)


def test_tokens_refill_at_the_rate_and_never_beyond_the_burst(clock):
    limiter = RateLimiter(clock)

    def take() -> float | None:
        return limiter.try_acquire("k", rate_per_s=2, burst=3)

    assert [take() for _ in range(3)] == [None] * 3
    clock.now += 0.5  # one token back
    assert take() is None
    assert take() is not None
    clock.now += 3600  # a long idle time refills the bucket to the burst, no further
    assert sum(take() is None for _ in range(10)) == 3


def test_each_key_has_its_own_bucket_and_limits(clock):
    limiter = RateLimiter(clock)
    assert limiter.try_acquire("a", rate_per_s=1, burst=1) is None
    assert limiter.try_acquire("a", rate_per_s=1, burst=1) == pytest.approx(1.0)
    assert [limiter.try_acquire("b", rate_per_s=10, burst=5) for _ in range(5)] == [None] * 5
    assert limiter.try_acquire("b", rate_per_s=10, burst=5) == pytest.approx(0.1)


def test_concurrent_requests_never_take_more_than_the_burst(clock):
    limiter = RateLimiter(clock)  # the clock stands still: no refill during the race
    allowed = []
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        allowed.extend(r is None for r in (limiter.try_acquire("k", rate_per_s=1, burst=50) for _ in range(100)))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 50
