"""Milestone rules, pure: which thresholds a creator's figures have reached, the coin and
revenue-sharing rules, the monthly revenue formula and the holders' share, in integer attoFIL.

Thresholds come from the settings (``MilestoneRules.from_settings``); the factory contract
enforces the coin thresholds again on chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamvault.config import Settings

BPS = 10_000
MARKET_CAP_SHARE_DIVISOR = 10  # 10% of a known market cap counts as monthly revenue


class MilestoneType(StrEnum):
    PLAYS = "PLAYS"
    FOLLOWERS = "FOLLOWERS"
    REVENUE = "REVENUE"


@dataclass(frozen=True, slots=True)
class Milestone:
    type: MilestoneType
    threshold: int
    value_reached: int


@dataclass(frozen=True, slots=True)
class CreatorFigures:
    creator_id: int
    plays: int
    followers: int
    monthly_revenue_attofil: int


@dataclass(frozen=True, slots=True)
class MilestoneRules:
    play_thresholds: tuple[int, ...]
    follower_thresholds: tuple[int, ...]
    coin_min_plays: int
    coin_min_followers: int
    revenue_share_min_monthly_attofil: int

    @classmethod
    def from_settings(cls, settings: Settings) -> MilestoneRules:
        return cls(settings.milestone_play_thresholds, settings.milestone_follower_thresholds,
                   settings.coin_min_plays, settings.coin_min_followers,
                   settings.revenue_share_min_monthly_attofil)

    @property
    def smallest_threshold(self) -> dict[MilestoneType, int]:
        """Below these a creator has no milestone at all: detection can skip it."""
        return {MilestoneType.PLAYS: min(self._thresholds(MilestoneType.PLAYS)),
                MilestoneType.FOLLOWERS: min(self._thresholds(MilestoneType.FOLLOWERS)),
                MilestoneType.REVENUE: self.revenue_share_min_monthly_attofil}

    def _thresholds(self, kind: MilestoneType) -> set[int]:
        # The action thresholds are milestones too, whether or not the intermediate list names them.
        if kind is MilestoneType.PLAYS:
            return {*self.play_thresholds, self.coin_min_plays}
        if kind is MilestoneType.FOLLOWERS:
            return {*self.follower_thresholds, self.coin_min_followers}
        return {self.revenue_share_min_monthly_attofil}

    def reached(self, figures: CreatorFigures) -> list[Milestone]:
        """Every milestone the figures meet (recording them is idempotent: the store keeps the first)."""
        values = {MilestoneType.PLAYS: figures.plays, MilestoneType.FOLLOWERS: figures.followers,
                  MilestoneType.REVENUE: figures.monthly_revenue_attofil}
        return [Milestone(kind, threshold, value) for kind, value in values.items()
                for threshold in sorted(self._thresholds(kind)) if value >= threshold]

    def coin_eligible(self, plays: int, followers: int) -> bool:
        return plays >= self.coin_min_plays and followers >= self.coin_min_followers

    def revenue_sharing_due(self, monthly_revenue_attofil: int) -> bool:
        return monthly_revenue_attofil >= self.revenue_share_min_monthly_attofil


def monthly_revenue(sales_and_tips_attofil: int, market_cap_attofil: int | None) -> int:
    """Sales + tips received in the calendar month, plus 10% of the coin's market cap when one is
    known (rounded down to the attoFIL); the SQL in ``repositories.creators`` computes the same."""
    if sales_and_tips_attofil < 0 or (market_cap_attofil or 0) < 0:
        raise ValueError("revenue and market cap are never negative")
    return sales_and_tips_attofil + (market_cap_attofil or 0) // MARKET_CAP_SHARE_DIVISOR


def holders_share(revenue_attofil: int, share_bps: int) -> int:
    """The holders' part of a quarter's revenue, rounded down (never more than the revenue)."""
    if not 0 <= share_bps <= BPS:
        raise ValueError(f"a share is 0..{BPS} bps, not {share_bps}")
    return revenue_attofil * share_bps // BPS


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True, slots=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _QUARTER.match(text)
        if match is None:
            raise ValueError(f"a quarter is written like 2026Q3, not {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, moment: datetime) -> Quarter:
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: the next quarter's start."""
        return self.next().start

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    @property
    def on_chain_id(self) -> int:
        """The distributor's uint32 quarter key: 2026Q3 → 20263."""
        return self.year * 10 + self.number
