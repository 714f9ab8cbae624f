"""What each stored event changes in the counters and daily rollups, summed per row.

Meanings, which keep ``creators.<counter> == sum(creator_daily_stats.<column>)`` (followers:
follows − unfollows) and ``daily_stats == sum over creators of creator_daily_stats``:

- plays and listen_ms: per play, on the day it was played;
- likes and comments: the live ones, on the day each was made. An unlike or a comment deletion
  takes one off the day of the like or comment it undoes (the rollups carry no unlike column),
  so a day's figure is what ``likes``/``comments`` hold for it;
- follows and unfollows: each change on its own day, a flow (both columns exist): follower
  counts move by follows − unfollows; ``follow_events`` keeps the raw changes;
- revenue: sales and tips at their amount, on their day (no counter; the creator's metrics
  change, so its ``metrics_changed_at`` moves too).

Rows come out sorted by key: concurrent writers then lock rows of a table in the same order
and cannot deadlock on them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class Effect:
    """One stored event's contribution."""

    creator_id: int
    day: date
    track_id: int | None = None
    plays: int = 0
    listen_ms: int = 0
    likes: int = 0
    comments: int = 0
    follows: int = 0
    unfollows: int = 0
    revenue_attofil: int = 0


# Rollup columns an undo can take from (an unlike, a comment deletion): all others only grow.
SIGNED = ("likes", "comments")
_TRACK = ("plays", "likes", "comments")
_CREATOR = ("plays", "likes", "comments", "followers")
_CREATOR_DAY = ("plays", "listen_ms", "likes", "comments", "follows", "unfollows", "revenue_attofil")
_DAY = ("plays", "listen_ms", "likes", "comments", "follows", "revenue_attofil")


class Rollup:
    """Effects summed per track, creator, creator-day and day; rows as column → delta."""

    def __init__(self) -> None:
        self._tracks: defaultdict[int, list[int]] = defaultdict(lambda: [0] * len(_TRACK))
        self._creators: defaultdict[int, list[int]] = defaultdict(lambda: [0] * len(_CREATOR))
        self._creator_days: defaultdict[tuple[int, date], list[int]] = defaultdict(lambda: [0] * len(_CREATOR_DAY))
        self._days: defaultdict[date, list[int]] = defaultdict(lambda: [0] * len(_DAY))

    def add(self, e: Effect) -> None:
        if e.track_id is not None and (e.plays or e.likes or e.comments):
            _accumulate(self._tracks[e.track_id], (e.plays, e.likes, e.comments))
        _accumulate(self._creators[e.creator_id], (e.plays, e.likes, e.comments, e.follows - e.unfollows))
        _accumulate(self._creator_days[(e.creator_id, e.day)],
                    (e.plays, e.listen_ms, e.likes, e.comments, e.follows, e.unfollows, e.revenue_attofil))
        _accumulate(self._days[e.day], (e.plays, e.listen_ms, e.likes, e.comments, e.follows, e.revenue_attofil))

    def add_play(self, creator_id: int, day: date, track_id: int, listen_ms: int) -> None:
        """``add(Effect(creator_id, day, track_id, plays=1, listen_ms=listen_ms))``, without the
        Effect: plays are nearly every event, and this runs once per play."""
        self._tracks[track_id][0] += 1  # plays come first in every row's columns
        self._creators[creator_id][0] += 1
        creator_day = self._creator_days[(creator_id, day)]
        creator_day[0] += 1
        creator_day[1] += listen_ms  # then listen_ms in the daily rows
        platform_day = self._days[day]
        platform_day[0] += 1
        platform_day[1] += listen_ms

    def __bool__(self) -> bool:
        return bool(self._creators)

    def tracks(self) -> list[dict[str, int]]:
        return _rows(self._tracks, ("id",), _TRACK)

    def creators(self) -> list[dict[str, int]]:
        """Every creator an event touched, revenue alone included (its metrics changed)."""
        return _rows(self._creators, ("id",), _CREATOR)

    def creator_days(self) -> list[dict[str, Any]]:
        return _rows(self._creator_days, ("creator_id", "day"), _CREATOR_DAY)

    def days(self) -> list[dict[str, Any]]:
        return _rows(self._days, ("day",), _DAY)


def _accumulate(into: list[int], deltas: tuple[int, ...]) -> None:
    for i, delta in enumerate(deltas):
        into[i] += delta


def _rows(table: dict[Any, list[int]], key: tuple[str, ...], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Sorted by key; a key is a value or a tuple of values."""
    names = key + columns
    return [dict(zip(names, (*k, *values) if isinstance(k, tuple) else (k, *values), strict=True))
            for k, values in sorted(table.items())]
