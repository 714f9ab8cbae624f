"""Daily database maintenance (the ops function's schedule, ``streamvault db maintain``).

- ``plays`` partitions for the months ahead, created before rows need them;
- the creators' stored engagement scores (what lists sort by): ingestion refreshes a creator's
  score when its counters move, but the score's 90-day release window also slides with the
  calendar, so a quiet creator's stored score would keep releases that have left the window.
"""

from __future__ import annotations

from datetime import UTC, datetime

from streamvault.db.engine import transaction
from streamvault.db.repositories.creators import refresh_engagement_scores
from streamvault.db.repositories.monitoring import (
    PARTITION_MONTHS_AHEAD,
    PARTITION_MONTHS_BACK,
    ensure_play_partitions,
)

PARTITIONS_TIMEOUT_MS = 300_000  # moving rows out of the default partition is a long statement


def maintain(months_back: int = PARTITION_MONTHS_BACK, months_ahead: int = PARTITION_MONTHS_AHEAD) -> dict[str, int]:
    """Each step in its own transaction; returns how many partitions and scores changed."""
    with transaction(statement_timeout_ms=PARTITIONS_TIMEOUT_MS) as conn:
        created = ensure_play_partitions(conn, months_back=months_back, months_ahead=months_ahead)
    with transaction() as conn:
        refreshed = refresh_engagement_scores(conn, datetime.now(UTC))
    return {"partitions_created": created, "scores_refreshed": refreshed}
