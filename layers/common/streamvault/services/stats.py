"""Daily series (per creator, platform-wide) from the rollups, and the date ranges they accept."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field

from streamvault.db.repositories.stats import platform_daily_series
from streamvault.errors import BadRequest
from streamvault.services.database import api_read

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a leap year: one request can always cover a year


class DayCounts(BaseModel):
    day: date
    plays: int
    listen_ms: int
    likes: int
    comments: int
    follows: int
    revenue_attofil: str = Field(description="sales and tips that day, integer attoFIL as a string")


class SeriesRange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date


class PlatformDayOut(DayCounts):
    new_users: int


class PlatformStatsOut(SeriesRange):
    days: list[PlatformDayOut]


def resolve_range(start: date | None, end: date | None) -> tuple[date, date]:
    """Both ends inclusive; ``to`` defaults to today (UTC), ``from`` to 30 days ending at ``to``."""
    end = end or datetime.now(UTC).date()
    # by ordinal: `end - timedelta(…)` would overflow (a 500) for a `to` in the first days of year 1
    start = start or date.fromordinal(max(1, end.toordinal() - (DEFAULT_DAYS - 1)))
    if start > end:
        raise BadRequest(f"from ({start}) is after to ({end})", {"from": str(start), "to": str(end)},
                         code="bad_date_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadRequest(f"at most {MAX_DAYS} days per request", {"from": str(start), "to": str(end)},
                         code="bad_date_range")
    return start, end


def platform_stats(start: date | None, end: date | None) -> PlatformStatsOut:
    start, end = resolve_range(start, end)
    with api_read(analytics=True) as conn:
        days = platform_daily_series(conn, start, end)
    return PlatformStatsOut(from_=start, to=end, days=[PlatformDayOut.model_validate(d) for d in days])
