"""Daily series from the rollups (``creator_daily_stats``, ``daily_stats``), one row per day of
the range: days without activity have no rollup row and come back as zeros."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text


def _zero_filled(*counters: str) -> str:
    """The select list: counters default to 0 on quiet days; revenue as integer attoFIL text."""
    columns = [f"coalesce(s.{c}, 0) AS {c}" for c in counters]
    return ", ".join(["d.day::date AS day", *columns, "coalesce(s.revenue_attofil, 0)::text AS revenue_attofil"])


_DAYS = "generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS d(day)"

# One of the API's hottest reads: a SQL function whose plan the server caches (migration 0005).
_CREATOR_SERIES = text("SELECT * FROM streamvault_creator_series(:creator_id, :start, :end)")
_CREATOR_COUNTERS = ("plays", "listen_ms", "likes", "comments", "follows", "unfollows")
_PLATFORM_SERIES = text(f"""
    SELECT {_zero_filled("plays", "listen_ms", "likes", "comments", "follows", "new_users")}
    FROM {_DAYS}
    LEFT JOIN daily_stats s ON s.day = d.day
    ORDER BY d.day
""")


def creator_daily_series(conn: Connection, creator_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """The creator's days from ``start`` to ``end`` inclusive; empty when there is no such live
    creator (the range always has a day), so one round trip also answers "does it exist"."""
    rows = conn.execute(_CREATOR_SERIES, {"creator_id": creator_id, "start": start, "end": end}).all()
    if not rows:
        return []
    active = {r.day: r for r in rows if r.day is not None}
    series = []
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        day = date.fromordinal(ordinal)
        row = active.get(day)
        counts = {c: getattr(row, c) if row else 0 for c in _CREATOR_COUNTERS}
        series.append({"day": day, **counts, "revenue_attofil": row.revenue_attofil if row else "0"})
    return series


def platform_daily_series(conn: Connection, start: date, end: date) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(_PLATFORM_SERIES, {"start": start, "end": end}).mappings()]
