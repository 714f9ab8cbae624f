"""Ingestion events: the wire format (pydantic), the batch limits, the time policy, and the
normalized form the write path and the ingest buffer share.

Wire format: ``{"events": [...]}``, 1 to ``MAX_EVENTS`` objects, each with a client-chosen
``event_id`` (UUID) and a ``type``:

- ``play``: ``track_id``, optional ``user_id``, ``played_at``, ``duration_ms``, ``source``,
  optional ``country`` (ISO 3166 alpha-2), ``ip`` and ``user_agent`` (of the listener's device);
- ``like``/``unlike``: ``user_id``, ``track_id``, ``occurred_at``;
- ``comment``: ``user_id``, ``track_id``, ``body``, ``occurred_at``; ``comment_delete``:
  ``user_id``, ``comment_event_id`` (the comment's own event id), ``occurred_at``;
- ``follow``/``unfollow``: ``user_id``, ``creator_id``, ``occurred_at``;
- ``purchase``: ``track_id``, optional ``user_id``, ``amount_attofil``, ``occurred_at``;
- ``tip``: ``creator_id``, optional ``track_id`` (one of the creator's) and ``user_id``,
  ``amount_attofil``, ``occurred_at``.

Amounts are integer attoFIL written as decimal strings (JSON numbers lose precision past 2**53).
Times carry a UTC offset. Unknown fields are refused, so a misspelt optional field is an error
rather than silently dropped data.

Time policy, against the moment the batch was received (kept with a buffered batch, so a late
replay judges it as it arrived): ``CLOCK_SKEW`` ahead is tolerated, later is ``future_event``;
older than ``max_age`` (``STREAMVAULT_MAX_EVENT_AGE_DAYS``, 7 days by default) is ``too_old``.
Past a week the days an event would change have been read, exported and synced on chain, and
clients buffer offline for hours, not weeks; a week also keeps every event inside the ``plays``
partitions maintained ahead of time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from streamvault.domain.privacy import network_of, user_agent_hash

MAX_EVENTS = 500
MAX_BODY_BYTES = 1024 * 1024
CLOCK_SKEW = timedelta(minutes=5)
MAX_DURATION_MS = 24 * 3_600_000
MAX_USER_AGENT = 1024
UINT256_MAX = 2**256 - 1
_BIGINT_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,78}")

Id = Annotated[int, Field(ge=1, le=_BIGINT_MAX)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
Source = Literal["stream", "playlist", "radio", "search", "profile", "embed", "other"]  # = models.PLAY_SOURCES


def _attofil(value: object) -> int:
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        raise ValueError("an amount is a string of decimal digits: integer attoFIL")
    amount = int(value)
    if not 0 < amount <= UINT256_MAX:
        raise ValueError("an amount is between 1 and 2**256 - 1 attoFIL")
    return amount


AttoFil = Annotated[int, PlainValidator(_attofil)]


def _network(value: object) -> str:
    """The client's address, anonymized as it is validated: the raw one goes no further."""
    if not isinstance(value, str):
        raise ValueError("an IP address is a string")
    try:
        return network_of(value)
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


IpPrefix = Annotated[str, PlainValidator(_network)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID


class PlayIn(_In):
    type: Literal["play"]
    track_id: Id
    user_id: Id | None = None
    played_at: AwareDatetime
    duration_ms: int = Field(ge=0, le=MAX_DURATION_MS)
    source: Source = "stream"
    country: Country | None = None
    ip: IpPrefix | None = None  # holds the /24 or /48 once validated
    user_agent: str | None = Field(default=None, max_length=MAX_USER_AGENT)


class LikeIn(_In):
    type: Literal["like", "unlike"]
    user_id: Id
    track_id: Id
    occurred_at: AwareDatetime


class CommentIn(_In):
    type: Literal["comment"]
    user_id: Id
    track_id: Id
    body: str = Field(min_length=1, max_length=5000)
    occurred_at: AwareDatetime


class CommentDeleteIn(_In):
    type: Literal["comment_delete"]
    user_id: Id
    comment_event_id: UUID
    occurred_at: AwareDatetime


class FollowIn(_In):
    type: Literal["follow", "unfollow"]
    user_id: Id
    creator_id: Id
    occurred_at: AwareDatetime


class PurchaseIn(_In):
    type: Literal["purchase"]
    track_id: Id
    user_id: Id | None = None
    amount_attofil: AttoFil
    occurred_at: AwareDatetime


class TipIn(_In):
    type: Literal["tip"]
    creator_id: Id
    track_id: Id | None = None
    user_id: Id | None = None
    amount_attofil: AttoFil
    occurred_at: AwareDatetime


EventIn = Annotated[
    PlayIn | LikeIn | CommentIn | CommentDeleteIn | FollowIn | PurchaseIn | TipIn, Field(discriminator="type")
]
_ONE = TypeAdapter(EventIn)
_MANY = TypeAdapter(list[EventIn])
TYPES = frozenset({"play", "like", "unlike", "comment", "comment_delete", "follow", "unfollow", "purchase", "tip"})


@dataclass(frozen=True, slots=True)
class IngestEvent:
    """An accepted event, normalized: UTC time, privacy rules applied (no raw IP or user agent
    survives this far), the creator filled in from the track once references are resolved."""

    event_id: UUID
    type: str
    occurred_at: datetime
    user_id: int | None = None
    track_id: int | None = None
    creator_id: int | None = None
    duration_ms: int | None = None
    source: str | None = None
    country: str | None = None
    ip_prefix: str | None = None
    ua_hash: bytes | None = None
    body: str | None = None
    comment_event_id: UUID | None = None
    amount_attofil: int | None = None

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready, for the ingest buffer; only the fields that are set."""
        out: dict[str, Any] = {"event_id": str(self.event_id), "type": self.type,
                               "occurred_at": self.occurred_at.isoformat()}
        for name in _OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = _WIRE_ENCODERS.get(name, _same)(value)
        return out

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> IngestEvent:
        fields = {name: _WIRE_DECODERS.get(name, _same)(value) for name, value in data.items()}
        return cls(**fields)


def _same(value: Any) -> Any:
    return value


_OPTIONAL_FIELDS = ("user_id", "track_id", "creator_id", "duration_ms", "source", "country", "ip_prefix",
                    "ua_hash", "body", "comment_event_id", "amount_attofil")
_WIRE_ENCODERS = {"ua_hash": bytes.hex, "comment_event_id": str, "amount_attofil": str}
_WIRE_DECODERS = {"event_id": UUID, "occurred_at": datetime.fromisoformat, "ua_hash": bytes.fromhex,
                  "comment_event_id": UUID, "amount_attofil": int}


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int
    event_id: str | None
    code: str
    message: str


@dataclass(frozen=True)
class CheckedBatch:
    """``events[i]`` was item ``indexes[i]`` of the batch; later copies of an event id already in
    the batch count as duplicates, like a replay."""

    events: list[IngestEvent]
    indexes: list[int]
    errors: list[ItemError]
    duplicates: int


def check_items(items: list[Any], received_at: datetime, max_age: timedelta, ua_key: bytes) -> CheckedBatch:
    """Validate and normalize every item; invalid ones become per-item errors."""
    valid, errors = _validate(items)
    hash_agent = cache(partial(user_agent_hash, ua_key))  # a batch repeats few user agents
    events: list[IngestEvent] = []
    indexes: list[int] = []
    seen: set[UUID] = set()
    duplicates = 0
    for index, item in valid:
        refused = time_error(_occurred_at(item), received_at, max_age)
        if refused is not None:
            errors.append(ItemError(index, str(item.event_id), *refused))
        elif item.event_id in seen:
            duplicates += 1
        else:
            seen.add(item.event_id)
            events.append(normalize(item, hash_agent))
            indexes.append(index)
    errors.sort(key=lambda e: e.index)
    return CheckedBatch(events, indexes, errors, duplicates)


def _validate(items: list[Any]) -> tuple[list[tuple[int, Any]], list[ItemError]]:
    # One call for the whole list is several times faster than one per item; only a batch with
    # an invalid item pays for the item-by-item pass that tells the valid ones apart.
    try:
        return list(enumerate(_MANY.validate_python(items))), []
    except PydanticValidationError:
        pass
    valid: list[tuple[int, Any]] = []
    errors: list[ItemError] = []
    for index, raw in enumerate(items):
        try:
            valid.append((index, _ONE.validate_python(raw)))
        except PydanticValidationError as exc:
            errors.append(ItemError(index, _claimed_event_id(raw), "invalid_event", _describe(exc)))
    return valid, errors


def _claimed_event_id(raw: Any) -> str | None:
    value = raw.get("event_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _describe(exc: PydanticValidationError) -> str:
    """Field paths and messages, never the input values (they may hold an IP or a user agent)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        path = ".".join(str(p) for p in error["loc"] if p not in TYPES)  # a union's tag is no field
        parts.append(f"{path}: {error['msg']}" if path else error["msg"])
    return "; ".join(parts)


def _occurred_at(item: Any) -> datetime:
    return item.played_at if isinstance(item, PlayIn) else item.occurred_at


def time_error(occurred_at: datetime, received_at: datetime, max_age: timedelta) -> tuple[str, str] | None:
    """(code, message) when the time policy refuses the event, else None."""
    if occurred_at > received_at + CLOCK_SKEW:
        return "future_event", f"the event is more than {CLOCK_SKEW} ahead of the server's clock"
    if occurred_at < received_at - max_age:
        return "too_old", f"events older than {max_age.days} days are not accepted"
    return None


def normalize(item: Any, hash_agent: Callable[[str], bytes]) -> IngestEvent:
    """A validated item as an IngestEvent (its IP already anonymized by validation)."""
    if isinstance(item, PlayIn):
        return IngestEvent(
            event_id=item.event_id, type=item.type, occurred_at=item.played_at.astimezone(UTC),
            user_id=item.user_id, track_id=item.track_id, duration_ms=item.duration_ms, source=item.source,
            country=item.country, ip_prefix=item.ip,
            ua_hash=None if item.user_agent is None else hash_agent(item.user_agent),
        )
    fields = item.model_dump(exclude={"event_id", "type", "occurred_at"})
    return IngestEvent(event_id=item.event_id, type=item.type, occurred_at=item.occurred_at.astimezone(UTC), **fields)
