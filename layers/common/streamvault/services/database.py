"""How the API's services reach the database.

Reads run in autocommit (one round trip per query) under the connection's statement_timeout,
on the replica for analytics when one is configured; writes run in one transaction.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Connection

from streamvault.db.engine import get_engine, reading, transaction


def api_read(*, analytics: bool = False) -> AbstractContextManager[Connection]:
    """``analytics=True`` for aggregates, series and lists, which tolerate replica lag; reads a
    client may make right after a write (a profile, a track, a playlist) stay on the primary."""
    return reading(read=analytics)


def api_write(statement_timeout_ms: int | None = None) -> AbstractContextManager[Connection]:
    return transaction(get_engine(), statement_timeout_ms=statement_timeout_ms)
