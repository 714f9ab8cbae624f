"""Ingestion: a batch of events from the API (or the ingest buffer) into PostgreSQL, exactly once.

The write path, one transaction per batch:

1. plays (nearly every event) in one statement: the live track (of a live creator) and user
   each names, the event ledger (``ingested_events``: ``INSERT … ON CONFLICT (event_id) DO
   NOTHING RETURNING``) for those that name live rows, and the plays the ledger took;
2. the other events: the live tracks, users and creators they name, in one query, then the
   ledger, then their typed rows (likes, follows, comments, sales and tips), likes and follows
   through their own primary keys so that a repeated like or an unfollow of nothing is a no-op;
3. the rollups, from what actually changed.

An event naming anything that is not live is a per-item error, not a failed batch; only the
events the ledger returns as new go on, so a replayed event (a like after its unlike, too)
changes nothing.

Rollup mechanism: aggregated upserts inside the same transaction, one statement per table
(``streamvault.domain.rollups`` sums the batch's effects per row first). The alternative, an
incremental roll-up that scans new raw rows past a checkpoint (as Audius' indexer does), would
need a second moving part, a lag to monitor, and care with rows committed out of id order; the
in-transaction upsert is exact by construction (the counters commit with the events, or
neither does), has zero lag, and costs a few small statements per batch rather than per event.
Its risk, lock contention on hot rows (a popular creator, today's platform row), is bounded by
taking every counter and rollup row in key order (writers queue, they cannot deadlock there) and
touching the hottest row last (shortest hold). One corner is not ordered: a batch acting twice
on one (user, track) or (user, creator) pair applies its actions in rounds, and two such batches
can deadlock on those pair rows; PostgreSQL then aborts one, which is retried.

Durability: when PostgreSQL is unreachable or times out, the validated batch goes to the SQS
ingest buffer and the answer is 202; if that fails too, 503 and nothing was stored. The buffer
is drained by the same function through this same write path (``replay``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg.errors
from sqlalchemy import Connection
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from streamvault.config import get_settings, hex_key
from streamvault.db.engine import transaction
from streamvault.db.repositories import ingest as repo
from streamvault.domain.events import MAX_BODY_BYTES, MAX_EVENTS, CheckedBatch, IngestEvent, ItemError, check_items
from streamvault.domain.rollups import Effect, Rollup
from streamvault.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from streamvault.observability import logger
from streamvault.services import ingest_buffer

WRITE_ATTEMPTS = 3
# PostgreSQL rolled the transaction back for a conflict with a concurrent one: worth a new try.
RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
# What "the database is unavailable" looks like: refused or lost connections, statement and
# lock timeouts (psycopg's QueryCanceled and LockNotAvailable are OperationalErrors), an
# exhausted pool.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
# NOT A SECRET. Development only: stage "local" hashes user agents with it when
# STREAMVAULT_UA_HASH_KEY is unset; every other stage refuses to run without a real key.
_DEVELOPMENT_UA_KEY = b"streamvault-development-ua-key01"


class IngestUnavailable(Exception):
    """Neither the database nor the ingest buffer took the batch: retry later."""


@dataclass(frozen=True)
class Written:
    stored: int
    duplicates: int
    rejected: list[tuple[int, str, str]]  # (position in the events written, code, message)


@dataclass(frozen=True)
class Receipt:
    """The answer to a batch: counts, the refused items, whether it was buffered."""

    accepted: int  # events taken: stored + duplicates, or buffered
    stored: int
    duplicates: int
    failed: list[ItemError]
    buffered: bool = False

    @property
    def status(self) -> int:
        if self.buffered:
            return 202
        if not self.failed:
            return 200
        return 207 if self.accepted else 422

    def body(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "stored": self.stored, "duplicates": self.duplicates,
                "buffered": self.buffered,
                "failed": [{"index": e.index, "event_id": e.event_id, "code": e.code, "message": e.message}
                           for e in self.failed]}


def ua_hash_key() -> bytes:
    settings = get_settings()
    if settings.ua_hash_key:
        return hex_key(settings.ua_hash_key, "STREAMVAULT_UA_HASH_KEY")
    if settings.stage != "local":
        raise RuntimeError(f"stage {settings.stage!r} needs STREAMVAULT_UA_HASH_KEY (development key: local only)")
    return _DEVELOPMENT_UA_KEY


def parse_batch(body: str, content_type: str | None) -> list[Any]:
    """The batch's items, or a 4xx ClientError for a body that is not a batch."""
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("send the batch as application/json", {"content_type": content_type})
    size = len(body.encode())
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES} bytes", {"max_bytes": MAX_BODY_BYTES})
    try:
        document = json.loads(body)
    except ValueError:
        raise BadRequest("the body is not valid JSON", code="malformed_body") from None
    items = document.get("events") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise BadRequest('the body must be a JSON object {"events": [...]}', code="malformed_body")
    if not items:
        raise BadRequest("the batch has no events", code="empty_batch")
    if len(items) > MAX_EVENTS:
        raise PayloadTooLarge(f"at most {MAX_EVENTS} events per batch", {"max_events": MAX_EVENTS,
                                                                         "events": len(items)})
    return items


def receive(body: str, content_type: str | None, received_at: datetime | None = None) -> Receipt:
    """Validate a batch from the API and store it (or buffer it); raises ClientError for a body
    that is not a batch, IngestUnavailable when it could be neither stored nor buffered."""
    received_at = received_at or datetime.now(UTC)
    items = parse_batch(body, content_type)
    max_age = timedelta(days=get_settings().max_event_age_days)
    checked = check_items(items, received_at, max_age, ua_hash_key())
    if not checked.events:
        return Receipt(checked.duplicates, 0, checked.duplicates, checked.errors)
    try:
        written = write(checked.events)
    except DATABASE_UNAVAILABLE as exc:
        return _buffer(checked, received_at, exc)
    return _receipt(checked, written)


def _receipt(checked: CheckedBatch, written: Written) -> Receipt:
    rejected = [ItemError(checked.indexes[pos], str(checked.events[pos].event_id), code, message)
                for pos, code, message in written.rejected]
    failed = sorted(checked.errors + rejected, key=lambda e: e.index)
    duplicates = checked.duplicates + written.duplicates
    logger.info("ingest batch stored", extra={"stored": written.stored, "duplicates": duplicates,
                                              "failed": len(failed)})
    return Receipt(written.stored + duplicates, written.stored, duplicates, failed)


def _buffer(checked: CheckedBatch, received_at: datetime, cause: Exception) -> Receipt:
    reason = type(getattr(cause, "orig", None) or cause).__name__  # the driver's error class says more
    logger.warning("database unavailable: buffering the batch", extra={"events": len(checked.events), "error": reason})
    try:
        ingest_buffer.send(checked.events, received_at)
    except ingest_buffer.BufferUnavailable as exc:
        logger.error("ingest buffer unavailable too: batch refused", extra={"reason": str(exc)})
        raise IngestUnavailable("neither the database nor the ingest buffer is available") from exc
    accepted = len(checked.events) + checked.duplicates
    return Receipt(accepted, 0, checked.duplicates, checked.errors, buffered=True)


def replay(message_body: str) -> Written:
    """Write one ingest buffer message; raises ValueError for a message that is not ours and
    the database's errors while it is still unavailable (the message is then retried)."""
    events, received_at = ingest_buffer.decode(message_body)
    written = write(events)
    logger.info("buffered batch written", extra={"received_at": received_at.isoformat(), "stored": written.stored,
                                                 "duplicates": written.duplicates, "dropped": len(written.rejected)})
    if written.rejected:
        # The client was answered 202 for these: which ones, and why, must be findable (ids, no personal data).
        logger.warning("buffered events dropped at replay", extra={
            "received_at": received_at.isoformat(),
            "dropped": [{"event_id": str(events[pos].event_id), "code": code} for pos, code, _ in written.rejected],
        })
    return written


def write(events: Sequence[IngestEvent]) -> Written:
    """Store the events in one transaction; retried when PostgreSQL rolls it back for a conflict
    with a concurrent batch (deadlock, serialization failure)."""
    attempt = 1
    while True:
        try:
            with transaction() as conn:
                return _write_once(conn, events)
        except OperationalError as exc:
            if attempt >= WRITE_ATTEMPTS or not isinstance(exc.orig, RETRYABLE):
                raise
            logger.info("ingest transaction rolled back by a concurrent one: retrying", extra={"attempt": attempt})
            attempt += 1


def _write_once(conn: Connection, events: Sequence[IngestEvent]) -> Written:
    rollup = Rollup()
    plays = [(position, e) for position, e in enumerate(events) if e.type == "play"]
    others = [(position, e) for position, e in enumerate(events) if e.type != "play"]
    parts = [_write_plays(conn, plays, rollup) if plays else _NOTHING,
             _write_others(conn, others, rollup) if others else _NOTHING]
    if rollup:
        repo.apply_rollup(conn, rollup, as_of=datetime.now(UTC))
    return Written(sum(p.stored for p in parts), sum(p.duplicates for p in parts),
                   sorted(r for p in parts for r in p.rejected))


_NOTHING = Written(0, 0, [])


def _write_plays(conn: Connection, plays: list[tuple[int, IngestEvent]], rollup: Rollup) -> Written:
    """(position in the batch, play) pairs: stored in one statement, summed into ``rollup``."""
    stored = duplicates = 0
    rejected: list[tuple[int, str, str]] = []
    outcomes = repo.store_plays(conn, [play for _, play in plays])
    for (position, play), (creator_id, outcome) in zip(plays, outcomes, strict=True):
        if outcome is None:
            stored += 1
            rollup.add_play(creator_id, play.occurred_at.date(), play.track_id, play.duration_ms or 0)
        elif outcome == "duplicate":
            duplicates += 1
        else:
            rejected.append((position, *_unknown(outcome, play)))
    return Written(stored, duplicates, rejected)


def _write_others(conn: Connection, events: list[tuple[int, IngestEvent]], rollup: Rollup) -> Written:
    """(position in the batch, event) pairs of every type but plays: references, ledger, typed rows."""
    repo.serial_plans(conn)
    refs = repo.live_references(
        conn,
        tracks={e.track_id for _, e in events if e.track_id is not None},
        users={e.user_id for _, e in events if e.user_id is not None},
        creators={e.creator_id for _, e in events if e.creator_id is not None},
    )
    accepted: list[IngestEvent] = []
    rejected: list[tuple[int, str, str]] = []
    for position, event in events:
        resolved = _resolve(event, refs)
        if isinstance(resolved, IngestEvent):
            accepted.append(resolved)
        else:
            rejected.append((position, *resolved))
    new_ids = repo.record_events(conn, accepted) if accepted else set()
    _store(conn, [e for e in accepted if e.event_id in new_ids], rollup)
    return Written(len(new_ids), len(accepted) - len(new_ids), rejected)


_UNKNOWN: dict[str, Callable[[IngestEvent], str]] = {
    "unknown_user": lambda e: f"no live user {e.user_id}",
    "unknown_creator": lambda e: f"no live creator {e.creator_id}",
    "unknown_track": lambda e: f"no live track {e.track_id}",
}


def _unknown(code: str, event: IngestEvent) -> tuple[str, str]:
    """The per-item error (code, message) of an event naming what is not live."""
    return code, _UNKNOWN[code](event)


def _resolve(event: IngestEvent, refs: repo.References) -> IngestEvent | tuple[str, str]:
    """The event with its track's creator filled in, or (code, message) naming what is unknown."""
    if event.user_id is not None and event.user_id not in refs.users:
        return _unknown("unknown_user", event)
    if event.creator_id is not None and event.creator_id not in refs.creators:
        return _unknown("unknown_creator", event)
    if event.track_id is None:
        return event
    creator_id = refs.track_creators.get(event.track_id)
    if creator_id is None:
        return _unknown("unknown_track", event)
    if event.creator_id is not None and event.creator_id != creator_id:
        return "unknown_track", f"track {event.track_id} is not creator {event.creator_id}'s"
    return replace(event, creator_id=creator_id)


def _store(conn: Connection, fresh: list[IngestEvent], rollup: Rollup) -> None:
    """The typed rows of new events other than plays, in the same table order for every batch;
    their effects go into ``rollup``."""
    by_type: defaultdict[str, list[IngestEvent]] = defaultdict(list)
    for event in fresh:
        by_type[event.type].append(event)
    _store_likes(conn, [e for e in fresh if e.type in ("like", "unlike")], rollup)
    _store_follows(conn, [e for e in fresh if e.type in ("follow", "unfollow")], rollup)
    _store_comments(conn, by_type["comment"], by_type["comment_delete"], rollup)
    _store_revenue(conn, by_type["purchase"] + by_type["tip"], rollup)


def _effect(event: IngestEvent, at: datetime, **deltas: int) -> Effect:
    """The event's contribution to the rows of its creator (and track) on the day of ``at``."""
    if event.creator_id is None:  # _resolve fills it in for every event that gets this far
        raise ValueError(f"event {event.event_id} was not resolved to its creator")
    return Effect(event.creator_id, at.astimezone(UTC).date(), event.track_id, **deltas)


def _rounds(events: list[IngestEvent], key: Callable[[IngestEvent], Hashable]) -> list[list[IngestEvent]]:
    """Split into rounds holding at most one event per key, each key's events in batch order:
    one set-based statement per round then sees the state the previous round left (like,
    unlike, like of one pair in one batch). Nearly every batch is a single round."""
    rounds: list[list[IngestEvent]] = []
    seen: Counter[Hashable] = Counter()
    for event in events:
        k = key(event)
        if seen[k] == len(rounds):
            rounds.append([])
        rounds[seen[k]].append(event)
        seen[k] += 1
    return rounds


def _store_likes(conn: Connection, events: list[IngestEvent], rollup: Rollup) -> None:
    for round_ in _rounds(events, lambda e: (e.user_id, e.track_id)):
        likes = [e for e in round_ if e.type == "like"]
        unlikes = [e for e in round_ if e.type == "unlike"]
        added = repo.add_likes(conn, likes) if likes else set()
        removed = repo.remove_likes(conn, unlikes) if unlikes else {}
        for e in likes:
            if (e.user_id, e.track_id) in added:
                rollup.add(_effect(e, e.occurred_at, likes=1))
        for e in unlikes:
            liked_at = removed.get((e.user_id, e.track_id))  # type: ignore[arg-type]
            if liked_at is not None:
                rollup.add(_effect(e, liked_at, likes=-1))


def _store_follows(conn: Connection, events: list[IngestEvent], rollup: Rollup) -> None:
    for round_ in _rounds(events, lambda e: (e.user_id, e.creator_id)):
        for follow in (True, False):
            batch = [e for e in round_ if (e.type == "follow") == follow]
            changed = repo.change_follows(conn, batch, follow) if batch else set()
            for e in batch:
                if e.event_id in changed:
                    rollup.add(_effect(e, e.occurred_at, follows=int(follow), unfollows=int(not follow)))


def _store_comments(conn: Connection, comments: list[IngestEvent], deletions: list[IngestEvent],
                    rollup: Rollup) -> None:
    if comments:
        repo.add_comments(conn, comments)
        for e in comments:
            rollup.add(_effect(e, e.occurred_at, comments=1))
    if deletions:
        for track_id, creator_id, created_at in repo.delete_comments(conn, deletions):
            rollup.add(Effect(creator_id, created_at.astimezone(UTC).date(), track_id, comments=-1))


def _store_revenue(conn: Connection, events: list[IngestEvent], rollup: Rollup) -> None:
    if not events:
        return
    repo.add_revenue(conn, events)
    for e in events:
        rollup.add(_effect(e, e.occurred_at, revenue_attofil=e.amount_attofil or 0))
