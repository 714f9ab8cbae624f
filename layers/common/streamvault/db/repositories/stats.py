"""Daily series from the rollups (``creator_daily_stats``, ``daily_stats``), one row per day of
the range: days without activity have no rollup row and come back as zeros."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from streamvault.db.repositories.creators import driver


def _zero_filled(*counters: str) -> str:
    """The select list: counters default to 0 on quiet days; revenue as integer attoFIL text."""
    columns = [f"coalesce(s.{c}, 0) AS {c}" for c in counters]
    return ", ".join(["d.day::date AS day", *columns, "coalesce(s.revenue_attofil, 0)::text AS revenue_attofil"])


_DAYS = "generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS d(day)"

# One of the API's hottest reads: a SQL function whose plan the server caches (migration 0005),
# sent on the pooled psycopg connection itself (`creators.driver` says why).
_CREATOR_SERIES = "SELECT * FROM streamvault_creator_series(%s, %s, %s)"
_CREATOR_DAY_KEYS = ("day", "plays", "listen_ms", "likes", "comments", "follows", "unfollows", "revenue_attofil")
_QUIET_DAY = (0, 0, 0, 0, 0, 0, "0")
_PLATFORM_SERIES = text(f"""
    SELECT {_zero_filled("plays", "listen_ms", "likes", "comments", "follows", "new_users")}
    FROM {_DAYS}
    LEFT JOIN daily_stats s ON s.day = d.day
    ORDER BY d.day
""")


def creator_daily_series(conn: Connection, creator_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """The creator's days from ``start`` to ``end`` inclusive; empty when there is no such live
    creator (the range always has a day), so one round trip also answers "does it exist"."""
    rows = driver(conn).execute(_CREATOR_SERIES, (creator_id, start, end)).fetchall()
    if not rows:
        return []
    active = {row[0]: row[1:] for row in rows if row[0] is not None}
    days = map(date.fromordinal, range(start.toordinal(), end.toordinal() + 1))
    return [dict(zip(_CREATOR_DAY_KEYS, (day, *active.get(day, _QUIET_DAY)), strict=True)) for day in days]


def platform_daily_series(conn: Connection, start: date, end: date) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(_PLATFORM_SERIES, {"start": start, "end": end}).mappings()]
