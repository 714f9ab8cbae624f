"""Circuit breaker rules: after ``threshold`` consecutive failures the breaker opens and work
pauses; once ``cooldown_s`` has passed, one probe runs (half-open) and its outcome closes or
re-opens the breaker. Pure: the state lives in PostgreSQL (``chain_circuit_breakers``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Breaker:
    state: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    opened_at: datetime | None = None


def admit(b: Breaker, now: datetime, cooldown_s: int) -> tuple[bool, Breaker]:
    """(may this run proceed, the new state). An open breaker past its cool-down lets one probe
    through by moving to half-open; a half-open one admits nobody else until the probe reports."""
    if b.state is BreakerState.CLOSED:
        return True, b
    if b.state is BreakerState.OPEN and b.opened_at is not None and now - b.opened_at >= timedelta(seconds=cooldown_s):
        return True, replace(b, state=BreakerState.HALF_OPEN, opened_at=now)
    if b.state is BreakerState.HALF_OPEN and b.opened_at is not None \
            and now - b.opened_at >= timedelta(seconds=cooldown_s):
        return True, replace(b, opened_at=now)  # the probe itself died without reporting: try another
    return False, b


def record_success() -> Breaker:
    return Breaker()


def record_failure(b: Breaker, now: datetime, threshold: int) -> Breaker:
    failures = b.consecutive_failures + 1
    if b.state is BreakerState.HALF_OPEN or failures >= threshold:
        return Breaker(state=BreakerState.OPEN, consecutive_failures=failures, opened_at=now)
    return replace(b, consecutive_failures=failures)
