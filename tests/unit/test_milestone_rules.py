"""The pure milestone rules: thresholds reached, coin and sharing rules, revenue formula, quarters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from streamvault.config import Settings
from streamvault.domain.milestones import (
    CreatorFigures,
    Milestone,
    MilestoneRules,
    MilestoneType,
    Quarter,
    holders_share,
    monthly_revenue,
)

FIL = 10**18
RULES = MilestoneRules.from_settings(Settings())


def test_defaults_follow_the_seed_table_with_intermediate_thresholds():
    figures = CreatorFigures(1, plays=60_000, followers=4_999, monthly_revenue_attofil=100 * FIL)
    assert RULES.reached(figures) == [
        Milestone(MilestoneType.PLAYS, 1_000, 60_000), Milestone(MilestoneType.PLAYS, 10_000, 60_000),
        Milestone(MilestoneType.PLAYS, 50_000, 60_000), Milestone(MilestoneType.FOLLOWERS, 1_000, 4_999),
        Milestone(MilestoneType.REVENUE, 100 * FIL, 100 * FIL),
    ]
    assert not RULES.coin_eligible(60_000, 4_999) and RULES.coin_eligible(50_000, 5_000)
    assert RULES.revenue_sharing_due(100 * FIL) and not RULES.revenue_sharing_due(100 * FIL - 1)


def test_nothing_below_the_smallest_thresholds():
    assert RULES.reached(CreatorFigures(1, 999, 999, 100 * FIL - 1)) == []
    assert RULES.smallest_threshold == {MilestoneType.PLAYS: 1_000, MilestoneType.FOLLOWERS: 1_000,
                                        MilestoneType.REVENUE: 100 * FIL}


def test_thresholds_are_configurable():
    rules = MilestoneRules.from_settings(Settings(milestone_play_thresholds=(5,), coin_min_plays=7,
                                                  milestone_follower_thresholds=(), coin_min_followers=2))
    assert [(m.type, m.threshold) for m in rules.reached(CreatorFigures(1, 7, 2, 0))] == [
        (MilestoneType.PLAYS, 5), (MilestoneType.PLAYS, 7), (MilestoneType.FOLLOWERS, 2)]


def test_monthly_revenue_is_exact_integer_attofil():
    assert monthly_revenue(3 * FIL + 1, None) == 3 * FIL + 1
    assert monthly_revenue(5, 10**30 + 19) == 5 + 10**29 + 1  # 10% of the market cap, rounded down
    with pytest.raises(ValueError):
        monthly_revenue(-1, None)


def test_holders_share_rounds_down_and_stays_within_revenue():
    assert holders_share(7 * FIL + 9, 1_000) == 7 * FIL // 10
    assert holders_share(10**40, 10_000) == 10**40
    with pytest.raises(ValueError):
        holders_share(1, 10_001)


def test_quarters():
    q = Quarter.parse("2026Q3")
    assert (q.start, q.end, q.on_chain_id, str(q)) == (
        datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC), 20263, "2026Q3")
    assert Quarter.parse("2026Q4").end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Quarter.containing(datetime(2026, 1, 31, tzinfo=UTC)).previous() == Quarter(2025, 4)
    with pytest.raises(ValueError):
        Quarter.parse("2026Q5")
