"""How the API's services reach the database: one transaction per request, under the API's
statement timeout, on the replica for analytics reads when one is configured."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Connection

from streamvault.config import get_settings
from streamvault.db.engine import get_engine, transaction


def api_transaction(*, analytics: bool = False) -> AbstractContextManager[Connection]:
    """``analytics=True`` for aggregates, series and lists, which tolerate replica lag; reads a
    client may make right after a write (a profile, a track, a playlist) stay on the primary."""
    engine = get_engine(read=analytics)
    return transaction(engine, statement_timeout_ms=get_settings().api_statement_timeout_ms)
