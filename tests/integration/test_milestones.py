"""Milestone detection on a real PostgreSQL: recorded once each, however often or concurrently it runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import text
from streamvault.config import get_settings
from streamvault.db.repositories.creators import metrics_of_many
from streamvault.domain.milestones import MilestoneRules, monthly_revenue
from streamvault.services.milestones import detect

from tests.integration.factories import make_creator

FIL = 10**18


def add_revenue(conn, creator_id: int, amount: int, at: datetime) -> None:
    """A tip as ingestion stores it: the raw event and the day's rollup."""
    conn.execute(text("""
        WITH e AS (INSERT INTO ingested_events (event_id, event_type, occurred_at)
                   VALUES (gen_random_uuid(), 'tip', :at) RETURNING event_id)
        INSERT INTO revenue_events (event_id, kind, creator_id, amount_attofil, occurred_at)
        SELECT event_id, 'tip', :c, :amount, :at FROM e
    """), {"c": creator_id, "amount": amount, "at": at})
    conn.execute(text("""
        INSERT INTO creator_daily_stats (creator_id, day, revenue_attofil) VALUES (:c, CAST(:at AS date), :amount)
        ON CONFLICT (creator_id, day) DO UPDATE
            SET revenue_attofil = creator_daily_stats.revenue_attofil + excluded.revenue_attofil
    """), {"c": creator_id, "amount": amount, "at": at})


def milestones(conn) -> set[tuple]:
    return {(r.creator_id, r.milestone_type, int(r.threshold)) for r in conn.execute(
        text("SELECT creator_id, milestone_type, threshold FROM creator_milestones"))}


def test_detection_records_each_milestone_once(engine):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        star = make_creator(conn, plays=60_000, followers=5_000)
        rich = make_creator(conn, plays=10, market_cap=900 * FIL)
        add_revenue(conn, rich, 10 * FIL, now)
        quiet = make_creator(conn, plays=999, followers=999)
    rules = MilestoneRules.from_settings(get_settings())
    first = detect(rules, now=now)
    assert (first.creators, first.recorded) == (3, 6)
    with engine.connect() as conn:
        assert milestones(conn) == {
            (star, "PLAYS", 1_000), (star, "PLAYS", 10_000), (star, "PLAYS", 50_000),
            (star, "FOLLOWERS", 1_000), (star, "FOLLOWERS", 5_000), (rich, "REVENUE", 100 * FIL)}
        value = conn.execute(text("SELECT value_reached FROM creator_milestones WHERE creator_id = :c"),
                             {"c": rich}).scalar_one()
        [sql_revenue] = [m.monthly_revenue_attofil for m in metrics_of_many(conn, now, [rich])]
    # 10 FIL of tips + 10% of a 900 FIL market cap, in SQL and in the domain formula alike
    assert int(value) == sql_revenue == monthly_revenue(10 * FIL, 900 * FIL) == 100 * FIL
    assert detect(rules, now=now).recorded == 0
    assert (detect(rules, [quiet], now=now).recorded, detect(rules, [star], now=now).recorded) == (0, 0)


def test_concurrent_detections_record_nothing_twice(engine):
    with engine.begin() as conn:
        ids = [make_creator(conn, plays=2_000_000, followers=2_000_000) for _ in range(30)]
    rules = MilestoneRules.from_settings(get_settings())
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def run() -> None:
        barrier.wait()
        counts.append(detect(rules, ids).recorded)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    per_creator = 2 * 5  # plays and followers: 1k, 5k or 50k, 10k, 100k, 1M
    assert sum(counts) == 30 * per_creator
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM creator_milestones")).scalar_one() == 30 * per_creator
