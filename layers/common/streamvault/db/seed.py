"""Deterministic demo and benchmark data, bulk-loaded with COPY into an empty database.

``seed_database(engine, creators=…, plays=…)`` fills users, creators, tracks, plays (with their
``ingested_events``), follows, likes, comments and playlists, then derives every counter and
daily rollup from those rows. The same arguments (``seed`` and ``as_of`` included) always give
the same rows: every draw comes from one ``random.Random(seed)`` in a fixed order, and every id
is assigned here rather than by a sequence.

Time runs on a clock of whole seconds from ``as_of - 730 days`` to ``as_of``; nothing is later
than ``as_of``.

- Users: ``max(20 * creators, 100)`` by default, signing up over the two years at a rate that
  doubles from start to end (a growing platform), ids in sign-up order, a weighted country mix.
- Creators: a random sample of users, each opening its creator account within a week of signing
  up. Popularity is Zipf: the creator of rank r weighs ``r ** -1.1``, so a few creators get most
  plays; ranks are shuffled over ids. The top 5% are mostly verified, the rest rarely.
- Tracks: 1 to 30 per creator, more for popular ones (between half of and ``1 + 29 * r ** -0.35``),
  released uniformly between the creator's start and ``as_of``, so the catalog spans about two
  years with some releases in the trailing 90 days. A creator's weight is shared out among its
  live tracks by Zipf again, as a daily rate: a track released 30 days ago gets a third of the
  plays it would have had over the whole 90-day window. 30% are priced 0.1–5 FIL; 2% are
  soft-deleted (never a creator's first) and get no activity.
- Plays: a track drawn by weight; a uniform time in the last 90 days, or since release if later
  (so daily plays grow with the catalog, about twofold over the window); 80% by a user who had
  signed up by then, else anonymous; 60% full listens, else a uniform part of the track; a mix
  of sources; the listener's country (a random one when anonymous); a fresh uuid4 event id; no
  IP prefix or user-agent hash.
- Likes (about 4% of plays, one per user and track), comments (0.5%, 5% of them later deleted)
  and sales or tips (0.2%: a priced track sells at its price, an unpriced one gets a 0.1–5 FIL
  tip) draw their track, time and user like plays. Sales and tips have no raw table yet, so their
  revenue goes straight into the daily rollups.
- Follows: the floor of an exponential with mean 2 per user (about 1.5), creators drawn by Zipf
  weight, one per pair, created at a uniform time after both accounts exist.
- Playlists: 3% of users own 1 to 3, each of 5 to 25 distinct tracks drawn by weight and
  appended over time (positions follow the order of addition).

Everything happens in one transaction. The bulk tables (``BULK_TABLES``) are loaded without
their keys, indexes and foreign keys, which are re-created from the models once the rows are in,
as pg_restore does: one sorted index build and one validating join per foreign key instead of a
b-tree insert and a trigger per row (per-row foreign key checks alone would triple the time).
Before they come back, SQL derives the ``ingested_events`` rows of plays and comments, the
counters of tracks and creators, ``creator_daily_stats`` and ``daily_stats``, all set-based from
the raw rows. Then the identity sequences move past the ids used and the tables are analyzed.
One million plays for 10,000 creators take about 17 s on two cores: 8 s of Python generating
and copying rows, 3 s deriving, 5 s re-creating keys, indexes and foreign keys, 1 s analyzing.
"""

from __future__ import annotations

import logging
import math
import random
import time
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from psycopg import Cursor
from sqlalchemy import Connection, Engine, PrimaryKeyConstraint, UniqueConstraint, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from streamvault.db.engine import transaction
from streamvault.db.models import PLAY_SOURCES, Base
from streamvault.db.repositories.creators import refresh_engagement_scores

log = logging.getLogger(__name__)

CATALOG_SPAN = 730 * 86_400  # seconds of history
PLAY_WINDOW = 90 * 86_400  # plays, likes, comments and revenue happen in the trailing window
CREATOR_ONBOARDING = 7 * 86_400
ZIPF_EXPONENT = 1.1
TRACKS_EXPONENT = 0.35
MAX_TRACKS = 30
VERIFIED_TOP_SHARE = 0.05
ANONYMOUS_SHARE = 0.2
FULL_LISTEN_SHARE = 0.6
LIKES_PER_PLAY = 0.04
COMMENTS_PER_PLAY = 0.005
SALES_PER_PLAY = 0.002
PRICED_TRACK_SHARE = 0.3
DELETED_TRACK_SHARE = 0.02
DELETED_COMMENT_SHARE = 0.05
MEAN_FOLLOWS = 2.0
PLAYLIST_OWNER_SHARE = 0.03
TENTH_FIL = 10**17

SOURCE_WEIGHTS = (45, 20, 10, 10, 8, 4, 3)  # in the order of PLAY_SOURCES
COUNTRIES = ("US", "GB", "DE", "FR", "BR", "IN", "JP", "MX", "CA", "ES", "NG", "KR", "AU", "SE", "NL", "AR")
COUNTRY_WEIGHTS = (30, 8, 7, 6, 8, 8, 5, 5, 4, 4, 3, 3, 3, 2, 2, 2)
GENRES = ("pop", "hip-hop", "electronic", "rock", "indie", "r&b", "jazz", "classical", "lo-fi", "latin",
          "afrobeats", "ambient")
FIRST_NAMES = ("Alex", "Sam", "Nova", "Kai", "River", "Jordan", "Mika", "Luca", "Zoe", "Ines", "Omar", "Yuki",
               "Lena", "Tariq", "Ada", "Ravi", "Maya", "Theo", "Noor", "Felix")
LAST_NAMES = ("Rivera", "Chen", "Okafor", "Schmidt", "Tanaka", "Silva", "Novak", "Haddad", "Kowalski", "Moreau",
              "Singh", "Larsen", "Costa", "Ibrahim", "Park", "Walsh")
WORDS_A = ("Velvet", "Neon", "Midnight", "Golden", "Hollow", "Electric", "Paper", "Silent", "Crimson", "Lunar",
           "Wild", "Glass", "Summer", "Static", "Distant", "Broken")
WORDS_B = ("Echo", "Tides", "Skyline", "Heart", "Signal", "Garden", "Fever", "Horizon", "Machine", "River",
           "Dreams", "Lights", "Season", "Motel", "Parade", "Orbit")
COMMENT_BODIES = ("Love this!", "On repeat all week", "That bassline though", "Chills every time",
                  "Underrated", "Perfect for late nights", "Need the full album", "Who else found this on radio?",
                  "Saw this live, unreal", "The drop at 1:30", "🔥🔥🔥", "Instant classic")

# Loaded without keys, indexes and foreign keys (re-created afterwards); the others are small.
BULK_TABLES = ("ingested_events", "plays", "follows", "likes", "comments", "playlist_entries", "creator_daily_stats")
SEEDED_TABLES = ("users", "creators", "tracks", "playlists", *BULK_TABLES, "daily_stats")
IDENTITY_TABLES = ("users", "creators", "tracks", "comments", "playlists", "playlist_entries")

# COPY column lists with their PostgreSQL types (binary COPY needs them).
Columns = tuple[tuple[str, str], ...]
USER_COLUMNS: Columns = (("id", "int8"), ("username", "text"), ("email", "text"), ("display_name", "text"),
                         ("country", "text"), ("created_at", "timestamptz"), ("updated_at", "timestamptz"))
CREATOR_COLUMNS: Columns = (("id", "int8"), ("user_id", "int8"), ("name", "text"), ("bio", "text"),
                            ("verified", "bool"), ("metrics_changed_at", "timestamptz"),
                            ("created_at", "timestamptz"), ("updated_at", "timestamptz"))
TRACK_COLUMNS: Columns = (("id", "int8"), ("creator_id", "int8"), ("title", "text"), ("genre", "text"),
                          ("duration_ms", "int4"), ("released_at", "timestamptz"), ("price_attofil", "numeric"),
                          ("created_at", "timestamptz"), ("updated_at", "timestamptz"), ("deleted_at", "timestamptz"))
PLAY_COLUMNS: Columns = (("event_id", "uuid"), ("played_at", "timestamptz"), ("track_id", "int8"),
                         ("creator_id", "int8"), ("user_id", "int8"), ("duration_ms", "int4"), ("source", "text"),
                         ("country", "text"), ("received_at", "timestamptz"))
LIKE_COLUMNS: Columns = (("user_id", "int8"), ("track_id", "int8"), ("created_at", "timestamptz"))
COMMENT_COLUMNS: Columns = (("id", "int8"), ("event_id", "uuid"), ("user_id", "int8"), ("track_id", "int8"),
                            ("body", "text"), ("created_at", "timestamptz"), ("deleted_at", "timestamptz"))
FOLLOW_COLUMNS: Columns = (("user_id", "int8"), ("creator_id", "int8"), ("created_at", "timestamptz"))
PLAYLIST_COLUMNS: Columns = (("id", "int8"), ("owner_id", "int8"), ("name", "text"), ("is_public", "bool"),
                             ("created_at", "timestamptz"), ("updated_at", "timestamptz"))
ENTRY_COLUMNS: Columns = (("id", "int8"), ("playlist_id", "int8"), ("track_id", "int8"), ("position", "int4"),
                          ("added_at", "timestamptz"))
REVENUE_COLUMNS: Columns = (("creator_id", "int8"), ("earned_at", "timestamptz"), ("amount_attofil", "numeric"))


class DatabaseNotEmpty(ValueError):
    """Seeding only fills an empty database."""


@dataclass(frozen=True)
class SeedReport:
    users: int
    creators: int
    tracks: int
    plays: int
    follows: int
    likes: int
    comments: int
    playlists: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Creator:
    id: int
    user_id: int
    joined: int  # clock seconds
    rank: int  # popularity rank, 1 = most played


@dataclass(frozen=True, slots=True)
class _Track:
    id: int
    creator_id: int
    released: int  # clock seconds
    duration_ms: int
    price_attofil: int
    deleted: int | None  # clock seconds


@dataclass(frozen=True)
class _Catalog:
    """Who and what exists, and the draws that all activity shares."""

    origin: datetime  # clock second 0, CATALOG_SPAN before as_of
    user_joined: list[int]  # ascending: user id i signed up at user_joined[i - 1]
    user_country: list[str]
    creators: list[_Creator]
    creator_weights: list[float]  # cumulative Zipf weights, in creator id order
    tracks: list[_Track]
    track_weights: list[float]  # cumulative play weights, in track id order

    def at(self, second: int) -> datetime:
        return self.origin + timedelta(seconds=second)

    def pick_tracks(self, rng: random.Random, count: int) -> list[_Track]:
        return rng.choices(self.tracks, cum_weights=self.track_weights, k=count)

    def activity_time(self, rng: random.Random, track: _Track) -> int:
        """A uniform moment in the play window, never before the track's release."""
        return _after(rng, _activity_start(track))

    def member_at(self, rng: random.Random, second: int) -> int | None:
        """A user who had signed up by then (None if nobody had)."""
        signed_up = bisect_right(self.user_joined, second)
        return 1 + int(rng.random() * signed_up) if signed_up else None


def seed_database(
    engine: Engine,
    *,
    creators: int = 50,
    plays: int = 20_000,
    users: int | None = None,
    seed: int = 42,
    as_of: datetime | None = None,
) -> SeedReport:
    """Fill an empty database with deterministic demo data; raises ``ValueError`` if it has data."""
    started = time.perf_counter()
    users = max(creators * 20, 100) if users is None else users
    if creators < 1 or plays < 0 or users < creators:
        raise ValueError("need creators >= 1, plays >= 0 and users >= creators")
    as_of = _resolve_as_of(as_of)
    rng = random.Random(seed)
    with _timed("catalog planned"):
        catalog = _plan_catalog(rng, creators=creators, users=users, as_of=as_of)
    with transaction(engine, statement_timeout_ms=0) as conn:
        _require_empty(conn)
        _ensure_partitions(conn, as_of)
        with _bulk_loading(conn, BULK_TABLES):
            counts = _load(conn, rng, catalog, as_of, plays)
            with _timed("event ledger, counters and rollups derived"):
                _derive(conn)
        _advance_identities(conn)
        refresh_engagement_scores(conn, as_of)
        with _timed("analyzed"):
            conn.execute(text(f"ANALYZE {', '.join(SEEDED_TABLES)}"))
    return SeedReport(**counts, seconds=round(time.perf_counter() - started, 3))


def _resolve_as_of(as_of: datetime | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return as_of.astimezone(UTC)


@contextmanager
def _timed(what: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.info("seed: %s in %.2f s", what, time.perf_counter() - started)


def _growing_fraction(rng: random.Random) -> float:
    """A fraction in [0, 1) with density (2 + 2x) / 3: twice as likely near 1 as near 0."""
    return math.sqrt(1 + 3 * rng.random()) - 1


def _after(rng: random.Random, second: int, within: int = CATALOG_SPAN) -> int:
    """A uniform moment in the ``within`` seconds from ``second``, and not after as_of."""
    return second + int(rng.random() * min(within, CATALOG_SPAN - second))


def _uuid4(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _title(rng: random.Random) -> str:
    return f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)}"


def _fil_amount(rng: random.Random) -> int:
    """0.1 to 5 FIL in tenths, as attoFIL."""
    return rng.randint(1, 50) * TENTH_FIL


# --- the catalog: users, creators, tracks and their popularity ---------------------------------


def _plan_catalog(rng: random.Random, *, creators: int, users: int, as_of: datetime) -> _Catalog:
    user_joined = sorted(int(_growing_fraction(rng) * CATALOG_SPAN) for _ in range(users))
    user_country = rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS, k=users)
    ranks = list(range(1, creators + 1))
    rng.shuffle(ranks)
    creator_users = sorted(rng.sample(range(1, users + 1), creators))
    creator_list = [
        _Creator(creator_id, user_id, _after(rng, user_joined[user_id - 1], CREATOR_ONBOARDING), rank)
        for creator_id, (user_id, rank) in enumerate(zip(creator_users, ranks, strict=True), start=1)
    ]
    tracks: list[_Track] = []
    track_weights: list[float] = []
    for creator in creator_list:
        own_tracks, weights = _plan_tracks(rng, creator, first_id=len(tracks) + 1)
        tracks += own_tracks
        track_weights += weights
    return _Catalog(
        origin=as_of - timedelta(seconds=CATALOG_SPAN),
        user_joined=user_joined,
        user_country=user_country,
        creators=creator_list,
        creator_weights=list(accumulate(c.rank ** -ZIPF_EXPONENT for c in creator_list)),
        tracks=tracks,
        track_weights=list(accumulate(track_weights)),
    )


def _plan_tracks(rng: random.Random, creator: _Creator, first_id: int) -> tuple[list[_Track], list[float]]:
    """A creator's tracks and their play weights: the creator's Zipf weight shared out by Zipf
    among the live tracks (a daily rate), times the part of the play window each has been out."""
    most = 1 + round((MAX_TRACKS - 1) * creator.rank ** -TRACKS_EXPONENT)
    count = rng.randint(max(1, most // 2), most)
    tracks = [_plan_track(rng, creator, first_id + i, deletable=i > 0) for i in range(count)]
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    rates = [0.0 if t.deleted is not None else rank ** -ZIPF_EXPONENT for t, rank in zip(tracks, ranks, strict=True)]
    share = creator.rank ** -ZIPF_EXPONENT / sum(rates)  # the first track is never deleted
    out = [(CATALOG_SPAN - _activity_start(t)) / PLAY_WINDOW for t in tracks]
    return tracks, [rate * share * part for rate, part in zip(rates, out, strict=True)]


def _activity_start(track: _Track) -> int:
    """Activity on a track starts with the play window, or with its release if later."""
    return max(track.released, CATALOG_SPAN - PLAY_WINDOW)


def _plan_track(rng: random.Random, creator: _Creator, track_id: int, *, deletable: bool) -> _Track:
    released = _after(rng, creator.joined)
    deleted = _after(rng, released) if deletable and rng.random() < DELETED_TRACK_SHARE else None
    price = _fil_amount(rng) if rng.random() < PRICED_TRACK_SHARE else 0
    duration_ms = int(rng.triangular(90_000, 420_000, 200_000))
    return _Track(track_id, creator.id, released, duration_ms, price, deleted)


# --- rows ---------------------------------------------------------------------------------------


def _user_rows(rng: random.Random, catalog: _Catalog) -> Iterator[tuple[Any, ...]]:
    for user_id, (joined, country) in enumerate(zip(catalog.user_joined, catalog.user_country, strict=True), 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{first}{last}{user_id}".lower()
        at = catalog.at(joined)
        yield user_id, username, f"{username}@example.com", f"{first} {last}", country, at, at


def _creator_rows(rng: random.Random, catalog: _Catalog, as_of: datetime) -> Iterator[tuple[Any, ...]]:
    stars = max(1, round(len(catalog.creators) * VERIFIED_TOP_SHARE))
    for creator in catalog.creators:
        verified = rng.random() < (0.9 if creator.rank <= stars else 0.03)
        bio = f"{rng.choice(GENRES).capitalize()} from {catalog.user_country[creator.user_id - 1]}."
        at = catalog.at(creator.joined)
        yield creator.id, creator.user_id, _title(rng), bio, verified, as_of, at, at


def _track_rows(rng: random.Random, catalog: _Catalog) -> Iterator[tuple[Any, ...]]:
    for track in catalog.tracks:
        released = catalog.at(track.released)
        deleted = None if track.deleted is None else catalog.at(track.deleted)
        yield (track.id, track.creator_id, _title(rng), rng.choice(GENRES), track.duration_ms, released,
               track.price_attofil, released, deleted or released, deleted)


def _play_rows(rng: random.Random, catalog: _Catalog, count: int) -> Iterator[tuple[Any, ...]]:
    sources = rng.choices(PLAY_SOURCES, weights=SOURCE_WEIGHTS, k=count)
    for track, source in zip(catalog.pick_tracks(rng, count), sources, strict=True):
        second = catalog.activity_time(rng, track)
        user = None if rng.random() < ANONYMOUS_SHARE else catalog.member_at(rng, second)
        full = rng.random() < FULL_LISTEN_SHARE
        duration_ms = track.duration_ms if full else int(track.duration_ms * rng.random())
        country = catalog.user_country[user - 1] if user else rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        at = catalog.at(second)
        yield _uuid4(rng), at, track.id, track.creator_id, user, duration_ms, source, country, at


def _like_rows(rng: random.Random, catalog: _Catalog, attempts: int) -> Iterator[tuple[Any, ...]]:
    liked: set[tuple[int, int]] = set()
    for track in catalog.pick_tracks(rng, attempts):
        second = catalog.activity_time(rng, track)
        user = catalog.member_at(rng, second)
        if user is not None and (user, track.id) not in liked:
            liked.add((user, track.id))
            yield user, track.id, catalog.at(second)


def _comment_rows(rng: random.Random, catalog: _Catalog, count: int) -> Iterator[tuple[Any, ...]]:
    for comment_id, track in enumerate(catalog.pick_tracks(rng, count), start=1):
        second = catalog.activity_time(rng, track)
        user = catalog.member_at(rng, second)
        if user is None:
            continue
        deleted = catalog.at(_after(rng, second)) if rng.random() < DELETED_COMMENT_SHARE else None
        yield comment_id, _uuid4(rng), user, track.id, rng.choice(COMMENT_BODIES), catalog.at(second), deleted


def _revenue_rows(rng: random.Random, catalog: _Catalog, count: int) -> Iterator[tuple[Any, ...]]:
    """Sales of priced tracks at their price, tips for the others."""
    for track in catalog.pick_tracks(rng, count):
        second = catalog.activity_time(rng, track)
        yield track.creator_id, catalog.at(second), track.price_attofil or _fil_amount(rng)


def _follow_rows(rng: random.Random, catalog: _Catalog) -> Iterator[tuple[Any, ...]]:
    for user_id, joined in enumerate(catalog.user_joined, start=1):
        wanted = int(rng.expovariate(1 / MEAN_FOLLOWS))
        followed: set[int] = set()
        for creator in rng.choices(catalog.creators, cum_weights=catalog.creator_weights, k=wanted):
            if creator.user_id == user_id or creator.id in followed:
                continue
            followed.add(creator.id)
            yield user_id, creator.id, catalog.at(_after(rng, max(joined, creator.joined)))


def _playlist_rows(rng: random.Random, catalog: _Catalog) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    playlists: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    for user_id, joined in enumerate(catalog.user_joined, start=1):
        if rng.random() >= PLAYLIST_OWNER_SHARE:
            continue
        for _ in range(rng.randint(1, 3)):
            playlist_id = len(playlists) + 1
            created = _after(rng, joined)
            added = _playlist_additions(rng, catalog, created)
            for position, (second, track_id) in enumerate(added):
                entries.append((len(entries) + 1, playlist_id, track_id, position, catalog.at(second)))
            updated = added[-1][0] if added else created
            playlists.append((playlist_id, user_id, _title(rng), rng.random() < 0.8,
                              catalog.at(created), catalog.at(updated)))
    return playlists, entries


def _playlist_additions(rng: random.Random, catalog: _Catalog, created: int) -> list[tuple[int, int]]:
    """(second, track id) of distinct tracks, each added once both playlist and track exist, in order."""
    added: list[tuple[int, int]] = []
    seen: set[int] = set()
    for track in catalog.pick_tracks(rng, rng.randint(5, 25)):
        if track.id not in seen:
            seen.add(track.id)
            added.append((_after(rng, max(created, track.released)), track.id))
    return sorted(added)


# --- loading --------------------------------------------------------------------------------------


def _require_empty(conn: Connection) -> None:
    occupied = [t for t in SEEDED_TABLES if conn.execute(text(f"SELECT EXISTS (SELECT FROM {t})")).scalar_one()]
    if occupied:
        raise DatabaseNotEmpty(f"seeding needs an empty database, but these tables have rows: {', '.join(occupied)}")


def _ensure_partitions(conn: Connection, as_of: datetime) -> None:
    """Monthly plays partitions from the play window's first month to as_of's month."""
    first = as_of - timedelta(seconds=PLAY_WINDOW)
    months_back = (as_of.year - first.year) * 12 + as_of.month - first.month
    conn.execute(text("SELECT streamvault_ensure_play_partitions(:back, 0, :anchor)"),
                 {"back": months_back, "anchor": as_of})


def _copy(cursor: Cursor[Any], table: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> int:
    started = time.perf_counter()
    names = ", ".join(name for name, _ in columns)
    count = 0
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([type_ for _, type_ in columns])
        for row in rows:
            copy.write_row(row)
            count += 1
    log.info("seed: %s rows generated and copied into %s in %.2f s", f"{count:,}", table,
             time.perf_counter() - started)
    return count


def _load(conn: Connection, rng: random.Random, catalog: _Catalog, as_of: datetime, plays: int) -> dict[str, int]:
    """COPY the raw rows; the draws happen in this order, which fixes the data for a seed."""
    conn.execute(text("CREATE TEMPORARY TABLE seed_revenue "
                      "(creator_id bigint, earned_at timestamptz, amount_attofil numeric) ON COMMIT DROP"))
    with conn.connection.driver_connection.cursor() as cursor:
        counts = {
            "users": _copy(cursor, "users", USER_COLUMNS, _user_rows(rng, catalog)),
            "creators": _copy(cursor, "creators", CREATOR_COLUMNS, _creator_rows(rng, catalog, as_of)),
            "tracks": _copy(cursor, "tracks", TRACK_COLUMNS, _track_rows(rng, catalog)),
            "plays": _copy(cursor, "plays", PLAY_COLUMNS, _play_rows(rng, catalog, plays)),
            "likes": _copy(cursor, "likes", LIKE_COLUMNS, _like_rows(rng, catalog, round(plays * LIKES_PER_PLAY))),
            "comments": _copy(cursor, "comments", COMMENT_COLUMNS,
                              _comment_rows(rng, catalog, round(plays * COMMENTS_PER_PLAY))),
            "follows": _copy(cursor, "follows", FOLLOW_COLUMNS, _follow_rows(rng, catalog)),
        }
        playlists, entries = _playlist_rows(rng, catalog)
        counts["playlists"] = _copy(cursor, "playlists", PLAYLIST_COLUMNS, playlists)
        _copy(cursor, "playlist_entries", ENTRY_COLUMNS, entries)
        _copy(cursor, "seed_revenue", REVENUE_COLUMNS, _revenue_rows(rng, catalog, round(plays * SALES_PER_PLAY)))
    return counts


@contextmanager
def _bulk_loading(conn: Connection, tables: Sequence[str]) -> Iterator[None]:
    """Drop the tables' keys, indexes and foreign keys (and those referencing them) for the
    duration, then re-create them from the models: re-adding a foreign key validates every row.
    On an error the transaction's rollback brings them back with the rest."""
    metadata = Base.metadata
    keys = sorted((c for name in tables for c in metadata.tables[name].constraints
                   if isinstance(c, PrimaryKeyConstraint | UniqueConstraint)), key=lambda c: str(c.name))
    indexes = sorted((i for name in tables for i in metadata.tables[name].indexes), key=lambda i: str(i.name))
    foreign_keys = sorted((fk for table in metadata.sorted_tables for fk in table.foreign_key_constraints
                           if table.name in tables or fk.referred_table.name in tables), key=lambda c: str(c.name))
    for fk in foreign_keys:
        conn.execute(DropConstraint(fk))
    for index in indexes:
        conn.execute(DropIndex(index))
    for key in keys:
        conn.execute(DropConstraint(key))
    yield
    with _timed("keys, indexes and foreign keys re-created"):
        for key in keys:
            conn.execute(AddConstraint(key))
        for index in indexes:
            conn.execute(CreateIndex(index))
        for fk in foreign_keys:
            conn.execute(AddConstraint(fk))


# --- derived data -----------------------------------------------------------------------------------

# The event ledger rows of plays and comments (plays reference theirs by foreign key).
EVENT_LEDGER = """
INSERT INTO ingested_events (event_id, event_type, occurred_at, received_at)
SELECT event_id, 'play', played_at, received_at FROM plays
UNION ALL
SELECT event_id, 'comment', created_at, created_at FROM comments
"""

# Per track: plays, likes and live comments.
TRACK_COUNTERS = """
UPDATE tracks t
SET play_count = s.plays, like_count = s.likes, comment_count = s.comments
FROM (
    SELECT track_id, sum(plays) AS plays, sum(likes) AS likes, sum(comments) AS comments
    FROM (
        SELECT track_id, count(*) AS plays, 0 AS likes, 0 AS comments FROM plays GROUP BY track_id
        UNION ALL
        SELECT track_id, 0, count(*), 0 FROM likes GROUP BY track_id
        UNION ALL
        SELECT track_id, 0, 0, count(*) FROM comments WHERE deleted_at IS NULL GROUP BY track_id
    ) per_source
    GROUP BY track_id
) s
WHERE t.id = s.track_id
"""

# Per creator and UTC day, by the time each thing happened (no unfollows in seeded data).
CREATOR_DAILY_STATS = """
INSERT INTO creator_daily_stats (creator_id, day, plays, listen_ms, likes, comments, follows, revenue_attofil)
SELECT creator_id, day, sum(plays), sum(listen_ms), sum(likes), sum(comments), sum(follows), sum(revenue)
FROM (
    SELECT creator_id, (played_at AT TIME ZONE 'UTC')::date AS day, count(*) AS plays,
           sum(duration_ms) AS listen_ms, 0 AS likes, 0 AS comments, 0 AS follows, 0 AS revenue
    FROM plays GROUP BY 1, 2
    UNION ALL
    SELECT t.creator_id, (l.created_at AT TIME ZONE 'UTC')::date, 0, 0, count(*), 0, 0, 0
    FROM likes l JOIN tracks t ON t.id = l.track_id GROUP BY 1, 2
    UNION ALL
    SELECT t.creator_id, (c.created_at AT TIME ZONE 'UTC')::date, 0, 0, 0, count(*), 0, 0
    FROM comments c JOIN tracks t ON t.id = c.track_id WHERE c.deleted_at IS NULL GROUP BY 1, 2
    UNION ALL
    SELECT creator_id, (created_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, count(*), 0 FROM follows GROUP BY 1, 2
    UNION ALL
    SELECT creator_id, (earned_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 0, sum(amount_attofil)
    FROM seed_revenue GROUP BY 1, 2
) per_source
GROUP BY creator_id, day
"""

# Per creator: the rollups' totals, and the live tracks. Every creator has at least one track.
CREATOR_COUNTERS = """
UPDATE creators c
SET play_count = coalesce(s.plays, 0), like_count = coalesce(s.likes, 0),
    comment_count = coalesce(s.comments, 0), follower_count = coalesce(s.follows - s.unfollows, 0),
    track_count = t.live_tracks
FROM (SELECT creator_id, count(*) FILTER (WHERE deleted_at IS NULL) AS live_tracks FROM tracks GROUP BY creator_id) t
LEFT JOIN (
    SELECT creator_id, sum(plays) AS plays, sum(likes) AS likes, sum(comments) AS comments,
           sum(follows) AS follows, sum(unfollows) AS unfollows
    FROM creator_daily_stats GROUP BY creator_id
) s USING (creator_id)
WHERE c.id = t.creator_id
"""

# Platform-wide per UTC day: the creators' days summed, plus sign-ups.
DAILY_STATS = """
INSERT INTO daily_stats (day, plays, listen_ms, likes, comments, follows, new_users, revenue_attofil)
SELECT day, sum(plays), sum(listen_ms), sum(likes), sum(comments), sum(follows), sum(new_users), sum(revenue)
FROM (
    SELECT day, plays, listen_ms, likes, comments, follows, 0 AS new_users, revenue_attofil AS revenue
    FROM creator_daily_stats
    UNION ALL
    SELECT (created_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 0, count(*), 0 FROM users GROUP BY 1
) per_source
GROUP BY day
"""


def _derive(conn: Connection) -> None:
    for statement in (EVENT_LEDGER, TRACK_COUNTERS, CREATOR_DAILY_STATS, CREATOR_COUNTERS, DAILY_STATS):
        conn.execute(text(statement))


def _advance_identities(conn: Connection) -> None:
    """Ids were given explicitly: move each identity sequence past them."""
    for table in IDENTITY_TABLES:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
