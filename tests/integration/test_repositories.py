"""Repositories against a real PostgreSQL: metrics, sync candidates, milestones, logs, monitoring."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from streamvault.db.repositories import creators, milestones, monitoring, oracle_logs
from streamvault.db.repositories.oracle_logs import OracleLogEntry
from streamvault.domain.engagement import EngagementInputs, engagement_score

from tests.integration.factories import make_creator, make_track

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
FIL = 10**18


counts = st.integers(min_value=0, max_value=10**12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(counts, counts, counts, counts, st.integers(min_value=0, max_value=1000))
def test_sql_engagement_function_equals_the_python_rule(engine, plays, followers, likes, comments, tracks):
    with engine.connect() as conn:
        in_sql = conn.execute(
            text("SELECT streamvault_engagement_score(:p, :f, :l, :c, :t)"),
            {"p": plays, "f": followers, "l": likes, "c": comments, "t": tracks},
        ).scalar_one()
    assert in_sql == engagement_score(EngagementInputs(plays, followers, likes, comments, tracks)).score


def test_creator_metrics_come_from_counters_and_rollups(engine):
    with engine.begin() as conn:
        cid = make_creator(conn, plays=1000, followers=10, likes=5, comments=3, market_cap=1001 * FIL + 7)
        make_track(conn, cid, NOW - timedelta(days=10))
        make_track(conn, cid, NOW - timedelta(days=89))
        make_track(conn, cid, NOW - timedelta(days=91))  # outside the 90-day window
        make_track(conn, cid, NOW - timedelta(days=5), deleted=True)  # deleted: not counted
        conn.execute(text("""
            INSERT INTO creator_daily_stats (creator_id, day, revenue_attofil) VALUES
              (:c, '2026-11-01', :a), (:c, '2026-11-15', :b),
              (:c, '2026-10-31', :old),  -- last month
              (:c, '2026-11-16', :future)  -- after as_of
        """), {"c": cid, "a": 3 * FIL, "b": 1, "old": 50 * FIL, "future": 9 * FIL})

        m = creators.creator_metrics(conn, cid, as_of=NOW)

    assert (m.plays, m.followers, m.likes, m.comments, m.tracks_90d) == (1000, 10, 5, 3, 2)
    assert m.engagement_score == Decimal("17.77")
    # this month's sales and tips + 10% of the market cap, in integer attoFIL (floor)
    assert m.monthly_revenue_attofil == 3 * FIL + 1 + (1001 * FIL + 7) // 10


def test_deleted_or_unknown_creators_have_no_profile(engine):
    with engine.begin() as conn:
        cid = make_creator(conn)
        conn.execute(text("UPDATE creators SET deleted_at = now() WHERE id = :c"), {"c": cid})
        assert creators.get_creator_profile(conn, cid, NOW) is None
        assert creators.get_creator_profile(conn, 10**12, NOW) is None


def _mark_synced(conn, m: creators.CreatorMetrics, synced_at: datetime) -> None:
    conn.execute(text("""
        INSERT INTO creator_sync_state (creator_id, epoch, plays, followers, engagement_bps,
                                        monthly_revenue_attofil, synced_at)
        VALUES (:c, 1, :p, :f, :bps, :rev, :at)
        ON CONFLICT (creator_id) DO UPDATE SET plays = :p, followers = :f, engagement_bps = :bps,
            monthly_revenue_attofil = :rev, synced_at = :at
    """), {"c": m.creator_id, "p": m.plays, "f": m.followers, "bps": m.engagement_bps,
           "rev": m.monthly_revenue_attofil, "at": synced_at})


def test_eligible_for_sync_picks_changed_new_and_stale_creators(engine):
    with engine.begin() as conn:
        new = make_creator(conn, plays=10, verified=True, wallet=True)
        unchanged = make_creator(conn, plays=20, verified=True, wallet=True)
        changed = make_creator(conn, plays=30, verified=True, wallet=True)
        stale = make_creator(conn, plays=40, verified=True, wallet=True)
        make_creator(conn, plays=50, verified=False, wallet=True)  # not verified
        make_creator(conn, plays=60, verified=True, wallet=False)  # no wallet

        for cid, synced_at in ((unchanged, NOW - timedelta(hours=1)), (changed, NOW - timedelta(hours=1)),
                               (stale, NOW - timedelta(days=2))):
            _mark_synced(conn, creators.creator_metrics(conn, cid, NOW), synced_at)
        conn.execute(text("UPDATE creators SET play_count = play_count + 1 WHERE id = :c"), {"c": changed})

        picked = creators.eligible_for_sync(conn, as_of=NOW, heartbeat=timedelta(days=1))

    assert [m.creator_id for m in picked] == [new, stale, changed]  # never synced first, then oldest sync
    assert next(m for m in picked if m.creator_id == changed).plays == 31


def test_record_milestone_once_even_when_racing(engine):
    with engine.begin() as conn:
        cid = make_creator(conn)
    ids: list[int | None] = []
    racers = 3  # the engine's pool (1 + 2 overflow) holds three connections at once
    barrier = threading.Barrier(racers)

    def record() -> None:
        with engine.begin() as conn:
            barrier.wait()
            ids.append(milestones.record_milestone(conn, cid, "PLAYS", 50_000, 50_123))

    threads = [threading.Thread(target=record) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len([i for i in ids if i is not None]) == 1
    with engine.begin() as conn:
        assert milestones.record_milestone(conn, cid, "PLAYS", 50_000, 60_000) is None
        assert milestones.record_milestone(conn, cid, "REVENUE", 100 * FIL, 100 * FIL + 1) is not None
        rows = milestones.list_milestones(conn, cid)
    assert [(r["milestone_type"], r["threshold"], r["value_reached"]) for r in rows] == [
        ("PLAYS", 50_000, 50_123), ("REVENUE", 100 * FIL, 100 * FIL + 1)]


def test_sync_stats_and_recent_logs(engine):
    with engine.begin() as conn:
        for status, duration in [("SUCCESS", 100), ("SUCCESS", 300), ("FAILED", 200), ("PENDING", None)]:
            oracle_logs.write_oracle_log(conn, OracleLogEntry(
                operation="UPDATE_METRICS", status=status, creator_count=10, duration_ms=duration,
                error_class="network" if status == "FAILED" else None, details={"batch": 1}))
        # an old success outside the window still counts as the last success only if nothing newer
        conn.execute(text("UPDATE oracle_sync_logs SET created_at = now() - interval '30 hours' WHERE id = 1"))

        stats = oracle_logs.sync_stats(conn, hours=24)
        first_page = oracle_logs.recent_logs(conn, limit=2)
        second_page = oracle_logs.recent_logs(conn, limit=2, before_id=first_page[-1]["id"])
        failed = oracle_logs.recent_logs(conn, status="FAILED")

    assert (stats.operations, stats.succeeded, stats.failed) == (2, 1, 1)
    assert stats.success_rate == 0.5
    assert stats.avg_duration_ms == 250.0
    assert stats.last_success_at is not None
    assert [r["id"] for r in first_page + second_page] == [4, 3, 2, 1]
    assert [r["error_class"] for r in failed] == ["network"]


def test_sync_stats_with_nothing_logged(engine):
    with engine.connect() as conn:
        stats = oracle_logs.sync_stats(conn, hours=24)
    assert (stats.operations, stats.success_rate, stats.last_success_at) == (0, None, None)


def test_monitoring_reports_tables_indexes_and_health(engine):
    with engine.begin() as conn:
        tables = {t["table_name"]: t for t in monitoring.table_sizes(conn)}
        indexes = {(i["table_name"], i["index_name"]) for i in monitoring.index_usage(conn)}
        health = monitoring.database_health(conn)
    assert tables["plays"]["partitions"] >= 16
    assert "plays_2026_11" not in tables  # partitions fold into their parent
    assert ("plays", "ix_plays_creator_id_played_at") in indexes
    assert health["plays_outside_partitions"] == 0
    assert health["connections"] >= 1


def test_money_round_trips_exactly_beyond_bigint(engine):
    big = 123_456_789 * FIL + 1  # far past 2**63
    with engine.begin() as conn:
        cid = make_creator(conn, market_cap=big)
        stored = conn.execute(text("SELECT market_cap_attofil FROM creators WHERE id = :c"), {"c": cid}).scalar_one()
    assert stored == Decimal(big)
    assert int(stored) == big


@pytest.mark.parametrize("statement", [
    "UPDATE creators SET follower_count = -1",
    "UPDATE tracks SET price_attofil = -1",
    "INSERT INTO creator_milestones (creator_id, milestone_type, threshold, value_reached) "
    "SELECT id, 'PLAYS', 10, 9 FROM creators",
    "INSERT INTO creator_milestones (creator_id, milestone_type, threshold, value_reached) "
    "SELECT id, 'KARMA', 10, 10 FROM creators",
    "INSERT INTO revenue_distributions (creator_id, quarter, revenue_attofil, holders_share_attofil) "
    "SELECT id, '2026Q5', 10, 1 FROM creators",
    "INSERT INTO revenue_distributions (creator_id, quarter, revenue_attofil, holders_share_attofil) "
    "SELECT id, '2026Q3', 10, 11 FROM creators",
    "INSERT INTO follows (user_id, creator_id) SELECT user_id, id FROM creators",  # second follow of the pair
    "INSERT INTO likes (user_id, track_id) SELECT c.user_id, t.id FROM creators c JOIN tracks t ON true",
])
def test_constraints_reject_bad_rows(engine, statement):
    from sqlalchemy.exc import IntegrityError

    with engine.begin() as conn:
        cid = make_creator(conn)
        make_track(conn, cid, NOW)
        conn.execute(text("INSERT INTO follows (user_id, creator_id) SELECT user_id, id FROM creators"))
        conn.execute(text("INSERT INTO likes (user_id, track_id) SELECT c.user_id, t.id FROM creators c, tracks t"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(statement))
