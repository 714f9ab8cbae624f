"""The seed: counters and rollups agree with the raw rows, the data is plausible, Zipf-skewed and
deterministic, and a database that already has data is refused.

The read-only checks share one seeded database (module scope); the others seed their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from streamvault.db.engine import psycopg_url
from streamvault.db.seed import SeedReport, seed_database
from streamvault.local.postgres import create_database, drop_database, unique_name

# Just past a month boundary: the 90-day window reaches back into January, five months.
AS_OF = datetime(2025, 5, 1, 0, 30, tzinfo=UTC)
CREATORS, PLAYS = 40, 15_000


@contextmanager
def fresh_database(server_url: str, template: str) -> Iterator[Engine]:
    name = unique_name("sv_seed")
    engine = create_engine(psycopg_url(create_database(server_url, name, template=template)))
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def seeded(pg_server_url: str, template_database: str) -> Iterator[tuple[Engine, SeedReport]]:
    with fresh_database(pg_server_url, template_database) as engine:
        yield engine, seed_database(engine, creators=CREATORS, plays=PLAYS, as_of=AS_OF)


@pytest.fixture
def conn(seeded: tuple[Engine, SeedReport]) -> Iterator[Connection]:
    with seeded[0].connect() as connection:
        yield connection


def rows(conn: Connection, sql: str, **params: object) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text(sql), params)]


def scalar(conn: Connection, sql: str, **params: object) -> object:
    return conn.execute(text(sql), params).scalar_one()


# --- raw rows --------------------------------------------------------------------------------------


def test_report_counts_the_rows(seeded: tuple[Engine, SeedReport], conn: Connection) -> None:
    report = seeded[1]
    for table in ("users", "creators", "tracks", "plays", "follows", "likes", "comments", "playlists"):
        assert getattr(report, table) == scalar(conn, f"SELECT count(*) FROM {table}"), table
    assert report.plays == PLAYS
    assert report.users == CREATORS * 20
    assert report.seconds > 0
    assert 0 < report.likes < PLAYS * 0.1 and 0 < report.comments < report.likes
    assert report.follows > report.users  # about 1.5 per user


def test_plays_fall_in_the_window_and_in_monthly_partitions(conn: Connection) -> None:
    assert scalar(conn, "SELECT count(*) FROM plays_default") == 0
    first, last = rows(conn, "SELECT min(played_at), max(played_at) FROM plays")[0]
    assert AS_OF - timedelta(days=90) <= first and last <= AS_OF
    partitions = rows(conn, """
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'plays'::regclass AND EXISTS (SELECT FROM plays p WHERE p.tableoid = c.oid)
        ORDER BY 1
    """)
    assert partitions == [(f"plays_2025_{m:02d}",) for m in range(1, 6)]


def test_no_timestamp_is_after_as_of(conn: Connection) -> None:
    columns = rows(conn, """
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type = 'timestamp with time zone'
          AND table_name IN ('users', 'creators', 'tracks', 'plays', 'ingested_events', 'follows', 'likes',
                             'comments', 'playlists', 'playlist_entries')
    """)
    assert len(columns) >= 20
    for table, column in columns:
        assert scalar(conn, f"SELECT count(*) FROM {table} WHERE {column} > :as_of", as_of=AS_OF) == 0, column
    assert rows(conn, "SELECT DISTINCT metrics_changed_at FROM creators") == [(AS_OF,)]


def test_plays_are_plausible(conn: Connection) -> None:
    impossible = rows(conn, """
        SELECT p.event_id FROM plays p
        JOIN tracks t ON t.id = p.track_id
        LEFT JOIN users u ON u.id = p.user_id
        WHERE p.duration_ms > t.duration_ms OR p.creator_id <> t.creator_id
           OR p.played_at < t.released_at OR p.played_at < u.created_at
           OR t.deleted_at IS NOT NULL OR p.received_at <> p.played_at
           OR p.ip_prefix IS NOT NULL OR p.ua_hash IS NOT NULL OR p.country IS NULL
    """)
    assert impossible == []
    anonymous = scalar(conn, "SELECT avg((user_id IS NULL)::int) FROM plays")
    assert 0.17 < anonymous < 0.23
    assert scalar(conn, "SELECT count(DISTINCT source) FROM plays") == 7
    assert scalar(conn, "SELECT count(DISTINCT event_id) FROM plays") == PLAYS


def test_every_play_and_comment_has_its_ingested_event(conn: Connection) -> None:
    by_type = dict(rows(conn, "SELECT event_type, count(*) FROM ingested_events GROUP BY 1"))
    assert by_type == {"play": PLAYS, "comment": scalar(conn, "SELECT count(*) FROM comments")}
    orphans = rows(conn, """
        SELECT c.id FROM comments c
        LEFT JOIN ingested_events e ON e.event_id = c.event_id AND e.occurred_at = c.created_at
                                   AND e.event_type = 'comment'
        WHERE e.event_id IS NULL
    """)
    assert orphans == []


def test_playlists_are_ordered_from_zero(conn: Connection) -> None:
    assert scalar(conn, "SELECT count(*) FROM playlist_entries") > 0
    gapped = rows(conn, """
        SELECT playlist_id FROM playlist_entries GROUP BY playlist_id
        HAVING min(position) <> 0 OR max(position) <> count(*) - 1 OR count(DISTINCT track_id) <> count(*)
    """)
    assert gapped == []


def test_identity_sequences_continue_after_the_seeded_ids(conn: Connection) -> None:
    for table in ("users", "creators", "tracks", "comments", "playlists", "playlist_entries"):
        last = scalar(conn, f"SELECT pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')::regclass)")
        assert last == scalar(conn, f"SELECT max(id) FROM {table}"), table


# --- counters -------------------------------------------------------------------------------------


def test_creator_counters_match_the_rows(conn: Connection) -> None:
    wrong = rows(conn, """
        SELECT c.id FROM creators c
        WHERE c.play_count <> (SELECT count(*) FROM plays p WHERE p.creator_id = c.id)
           OR c.like_count <> (SELECT count(*) FROM likes l JOIN tracks t ON t.id = l.track_id
                               WHERE t.creator_id = c.id)
           OR c.comment_count <> (SELECT count(*) FROM comments m JOIN tracks t ON t.id = m.track_id
                                  WHERE t.creator_id = c.id AND m.deleted_at IS NULL)
           OR c.follower_count <> (SELECT count(*) FROM follows f WHERE f.creator_id = c.id)
           OR c.track_count <> (SELECT count(*) FROM tracks t WHERE t.creator_id = c.id AND t.deleted_at IS NULL)
    """)
    assert wrong == []
    assert scalar(conn, "SELECT sum(play_count) FROM creators") == PLAYS


def test_track_counters_match_the_rows(conn: Connection) -> None:
    wrong = rows(conn, """
        SELECT t.id FROM tracks t
        WHERE t.play_count <> (SELECT count(*) FROM plays p WHERE p.track_id = t.id)
           OR t.like_count <> (SELECT count(*) FROM likes l WHERE l.track_id = t.id)
           OR t.comment_count <> (SELECT count(*) FROM comments m WHERE m.track_id = t.id AND m.deleted_at IS NULL)
    """)
    assert wrong == []


def test_soft_deletions_are_present_so_the_live_filters_are_exercised(conn: Connection) -> None:
    assert scalar(conn, "SELECT count(*) FROM tracks WHERE deleted_at IS NOT NULL") > 0
    assert scalar(conn, "SELECT count(*) FROM comments WHERE deleted_at IS NOT NULL") > 0


# --- rollups ----------------------------------------------------------------------------------------

DAY = "(({0}) AT TIME ZONE 'UTC')::date"
# Per measure: (creator_id, day, value) grouped straight from the raw rows.
CREATOR_DAY_MEASURES = {
    "plays": f"SELECT creator_id, {DAY.format('played_at')}, count(*) FROM plays GROUP BY 1, 2",
    "listen_ms": f"SELECT creator_id, {DAY.format('played_at')}, sum(duration_ms) FROM plays GROUP BY 1, 2",
    "likes": f"""SELECT t.creator_id, {DAY.format('l.created_at')}, count(*)
                 FROM likes l JOIN tracks t ON t.id = l.track_id GROUP BY 1, 2""",
    "comments": f"""SELECT t.creator_id, {DAY.format('m.created_at')}, count(*)
                    FROM comments m JOIN tracks t ON t.id = m.track_id WHERE m.deleted_at IS NULL GROUP BY 1, 2""",
    "follows": f"SELECT creator_id, {DAY.format('created_at')}, count(*) FROM follows GROUP BY 1, 2",
}


@pytest.mark.parametrize("measure", sorted(CREATOR_DAY_MEASURES))
def test_creator_daily_stats_match_the_rows(conn: Connection, measure: str) -> None:
    mismatches = rows(conn, f"""
        SELECT coalesce(r.creator_id, s.creator_id), coalesce(r.day, s.day), r.value, s.{measure}
        FROM ({CREATOR_DAY_MEASURES[measure]}) AS r (creator_id, day, value)
        FULL JOIN (SELECT creator_id, day, {measure} FROM creator_daily_stats WHERE {measure} <> 0) s
               ON s.creator_id = r.creator_id AND s.day = r.day
        WHERE r.value IS DISTINCT FROM s.{measure}
    """)
    assert mismatches == []


@pytest.mark.parametrize("measure", [*sorted(CREATOR_DAY_MEASURES), "new_users"])
def test_daily_stats_match_the_rows(conn: Connection, measure: str) -> None:
    if measure == "new_users":
        raw = f"SELECT {DAY.format('created_at')}, count(*) FROM users GROUP BY 1"
    else:
        raw = f"SELECT day, sum(value) FROM ({CREATOR_DAY_MEASURES[measure]}) AS r (creator_id, day, value) GROUP BY 1"
    mismatches = rows(conn, f"""
        SELECT coalesce(r.day, s.day), r.value, s.{measure}
        FROM ({raw}) AS r (day, value)
        FULL JOIN (SELECT day, {measure} FROM daily_stats WHERE {measure} <> 0) s ON s.day = r.day
        WHERE r.value IS DISTINCT FROM s.{measure}
    """)
    assert mismatches == []


def test_revenue_rolls_up_from_creators_to_the_platform(conn: Connection) -> None:
    mismatches = rows(conn, """
        SELECT coalesce(c.day, d.day), c.revenue, d.revenue_attofil
        FROM (SELECT day, sum(revenue_attofil) AS revenue FROM creator_daily_stats GROUP BY day) c
        FULL JOIN daily_stats d ON d.day = c.day
        WHERE c.revenue IS DISTINCT FROM d.revenue_attofil AND NOT (c.day IS NULL AND d.revenue_attofil = 0)
    """)
    assert mismatches == []
    sales = rows(conn, "SELECT revenue_attofil FROM creator_daily_stats WHERE revenue_attofil > 0")
    assert len(sales) >= 10
    assert all(amount % 10**17 == 0 for (amount,) in sales)
    first_sale = scalar(conn, "SELECT min(day) FROM creator_daily_stats WHERE revenue_attofil > 0")
    assert first_sale >= (AS_OF - timedelta(days=90)).date()


def test_rollup_rows_have_activity_and_no_unfollows(conn: Connection) -> None:
    assert scalar(conn, "SELECT count(*) FROM creator_daily_stats WHERE unfollows <> 0") == 0
    idle = """plays = 0 AND likes = 0 AND comments = 0 AND follows = 0 AND revenue_attofil = 0"""
    assert scalar(conn, f"SELECT count(*) FROM creator_daily_stats WHERE {idle}") == 0
    assert scalar(conn, f"SELECT count(*) FROM daily_stats WHERE {idle} AND new_users = 0") == 0


# --- shape ---------------------------------------------------------------------------------------------


def test_popularity_is_zipf_skewed(conn: Connection) -> None:
    plays = [r[0] for r in rows(conn, "SELECT play_count FROM creators ORDER BY play_count DESC")]
    top, median = plays[0], plays[len(plays) // 2]
    assert top >= 10 * median
    assert sum(plays[: len(plays) // 10]) > 0.4 * PLAYS  # the top 10% of creators
    followers = [r[0] for r in rows(conn, "SELECT follower_count FROM creators ORDER BY follower_count DESC")]
    assert followers[0] >= 5 * followers[len(followers) // 2]
    verified = scalar(conn, "SELECT count(*) FILTER (WHERE verified) FROM creators")
    assert 0 < verified < CREATORS / 2
    tracks = rows(conn, "SELECT min(track_count), max(track_count) FROM creators")[0]
    assert tracks[0] >= 1 and tracks[1] <= 30


def test_catalog_spans_two_years_with_recent_releases(conn: Connection) -> None:
    oldest, recent = rows(conn, """
        SELECT min(released_at), count(*) FILTER (WHERE released_at > CAST(:as_of AS timestamptz) - interval '90 days')
        FROM tracks
    """, as_of=AS_OF)[0]
    assert AS_OF - timedelta(days=731) <= oldest < AS_OF - timedelta(days=365)
    assert recent > 0


# --- determinism and refusal ---------------------------------------------------------------------------

FINGERPRINTED = ("users", "creators", "tracks", "plays", "ingested_events", "follows", "likes", "comments",
                 "playlists", "playlist_entries", "creator_daily_stats", "daily_stats")


def fingerprint(engine: Engine) -> dict[str, str]:
    """An md5 per table of all its rows, ordered (timestamps rendered in UTC)."""
    with engine.connect() as conn:
        conn.execute(text("SET TIME ZONE 'UTC'"))
        return {t: scalar(conn, f"SELECT md5(string_agg(r::text, E'\\n' ORDER BY r::text)) FROM {t} r")
                for t in FINGERPRINTED}


def test_same_arguments_give_the_same_data(engine: Engine, pg_server_url: str, template_database: str) -> None:
    arguments = {"creators": 12, "plays": 3_000, "seed": 7, "as_of": AS_OF}
    seed_database(engine, **arguments)
    expected = fingerprint(engine)
    with fresh_database(pg_server_url, template_database) as again:
        seed_database(again, **arguments)
        assert fingerprint(again) == expected
    with fresh_database(pg_server_url, template_database) as other:
        seed_database(other, **{**arguments, "seed": 8})
        assert fingerprint(other)["plays"] != expected["plays"]


def test_refuses_a_database_that_has_data(engine: Engine) -> None:
    first = seed_database(engine, creators=3, plays=200)  # as_of: this hour
    with pytest.raises(ValueError, match="empty database"):
        seed_database(engine, creators=3, plays=200)
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM plays") == first.plays
        assert scalar(conn, "SELECT count(*) FROM plays_default") == 0
        assert scalar(conn, "SELECT max(played_at) <= now() FROM plays")


def test_refuses_when_creators_exist(engine: Engine) -> None:
    with engine.begin() as conn:
        user_id = scalar(conn, "INSERT INTO users (username) VALUES ('someone') RETURNING id")
        conn.execute(text("INSERT INTO creators (user_id, name) VALUES (:u, 'Someone')"), {"u": user_id})
    with pytest.raises(ValueError, match="creators"):
        seed_database(engine, creators=3, plays=10)
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM users") == 1


def test_rejects_bad_arguments(engine: Engine) -> None:
    for arguments in ({"creators": 0}, {"plays": -1}, {"creators": 10, "users": 5}, {"as_of": datetime(2025, 5, 1)}):
        with pytest.raises(ValueError):
            seed_database(engine, **arguments)  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM users") == 0
