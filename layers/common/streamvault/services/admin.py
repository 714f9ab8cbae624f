"""Administrators' writes and the GDPR erasure; every action leaves one audit row in its transaction.

Rules kept here:

- References in a body (a track's creator, a playlist's tracks…) must be live rows, else 400
  ``unknown_reference`` listing them; an unknown or deleted id in the path is a 404.
- Uniqueness is the database's: a taken username, a second creator account for a user, or a
  wallet held by another creator is a 409 ``conflict``.
- Wallets are encrypted before the transaction opens (KMS is a network call). The admin creator
  response carries the creator's own ``wallet_address``, decrypted: the administrator just set it
  and needs to check it; no other response, audit row or error message holds it in clear.
- Audit ``before``/``after`` hold no personal data in clear: personal fields read
  ``"[redacted]"`` (or null), the wallet ``"[encrypted]"`` (or null), so the log needs no scrubbing
  when a user is erased. Updates record only the fields whose value changed; the wallet counts
  as changed when its blind index does (its ciphertext differs on every write).
- Erasure: see ``db.repositories.admin.erase_user``; erasing an erased user is a 404, like any
  other write to a deleted row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic import StringConstraints as Text
from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from streamvault.db.repositories import admin as repo
from streamvault.db.repositories.audit import write_audit
from streamvault.db.repositories.creators import refresh_engagement_scores
from streamvault.db.types import UINT256_DIGITS
from streamvault.errors import BadRequest, Conflict, NotFound
from streamvault.services.database import api_write
from streamvault.wallets import decrypt_wallet, encrypt_wallet, normalize_address

ERASURE_TIMEOUT_MS = 60_000

# --- inputs --------------------------------------------------------------------------------------

RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Username = Annotated[str, Text(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
Email = Annotated[str, Text(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Country = Annotated[str, Text(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2
DisplayName = Annotated[str, Text(strip_whitespace=True, min_length=1, max_length=128)]
CreatorName = DisplayName  # both varchar(128)
Title = Annotated[str, Text(strip_whitespace=True, min_length=1, max_length=256)]
PlaylistName = Title  # both varchar(256)
Genre = Annotated[str, Text(strip_whitespace=True, min_length=1, max_length=64)]
LongText = Annotated[str, Text(max_length=5000)]  # bio, description: `text` columns, bounded here
DurationMs = Annotated[int, Field(gt=0, le=2**31 - 1)]
AttoFilText = Annotated[str, Text(pattern=rf"^(0|[1-9][0-9]{{0,{UINT256_DIGITS - 1}}})$")]
WalletAddress = Annotated[str, AfterValidator(normalize_address)]
TrackIds = Annotated[list[RowId], Field(max_length=5000)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Patch(_Input):
    """Only the fields sent change; null clears a field, except those in ``NOT_NULL``."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _sensible(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        nulled = sorted(f for f in self.model_fields_set & self.NOT_NULL if getattr(self, f) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class _UserFields(_Input):
    email: Email | None = None
    display_name: DisplayName | None = None
    country: Country | None = None


class UserCreate(_UserFields):
    username: Username


class UserPatch(_UserFields, _Patch):
    NOT_NULL = frozenset({"username"})
    username: Username | None = None


class _CreatorFields(_Input):
    bio: LongText | None = None
    wallet_address: WalletAddress | None = Field(
        default=None, description="0x and 40 hex digits, any case; stored encrypted; null removes it")
    market_cap_attofil: AttoFilText | None = Field(
        default=None, description="the creator coin's market cap, integer attoFIL as a string (10% of it counts "
                                  "in monthly revenue); null: unknown")


class CreatorCreate(_CreatorFields):
    user_id: RowId
    name: CreatorName
    verified: bool = False


class CreatorPatch(_CreatorFields, _Patch):
    NOT_NULL = frozenset({"name", "verified"})
    name: CreatorName | None = None
    verified: bool | None = None


class _TrackFields(_Input):
    genre: Genre | None = None


class TrackCreate(_TrackFields):
    creator_id: RowId
    title: Title
    duration_ms: DurationMs
    released_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    price_attofil: AttoFilText = Field(default="0", description="integer attoFIL as a decimal string")


class TrackPatch(_TrackFields, _Patch):
    NOT_NULL = frozenset({"title", "duration_ms", "released_at", "price_attofil"})
    title: Title | None = None
    duration_ms: DurationMs | None = None
    released_at: AwareDatetime | None = None
    price_attofil: AttoFilText | None = None


class _PlaylistFields(_Input):
    description: LongText | None = None


class PlaylistCreate(_PlaylistFields):
    owner_id: RowId
    name: PlaylistName
    is_public: bool = True
    track_ids: TrackIds = Field(default_factory=list)


class PlaylistPatch(_PlaylistFields, _Patch):
    NOT_NULL = frozenset({"name", "is_public"})
    name: PlaylistName | None = None
    is_public: bool | None = None


class PlaylistTracks(_Input):
    track_ids: TrackIds = Field(description="the whole playlist, in order; a track may appear more than once")


# --- outputs -------------------------------------------------------------------------------------


class AdminUserOut(BaseModel):
    """The administered user, email included (only admin responses carry one)."""

    id: int
    username: str
    email: str | None
    display_name: str | None
    country: str | None
    created_at: datetime
    updated_at: datetime


class AdminCreatorOut(BaseModel):
    id: int
    user_id: int
    name: str
    bio: str | None
    verified: bool
    wallet_address: str | None = Field(description="this creator's wallet, decrypted for the administrator")
    market_cap_attofil: str | None
    created_at: datetime
    updated_at: datetime


class AdminTrackOut(BaseModel):
    id: int
    creator_id: int
    title: str
    genre: str | None
    duration_ms: int
    released_at: datetime
    price_attofil: Annotated[str, BeforeValidator(lambda v: str(int(v)))] = Field(
        description="integer attoFIL, as a string to keep precision in JSON")
    play_count: int
    like_count: int
    comment_count: int
    created_at: datetime
    updated_at: datetime


class AdminPlaylistOut(BaseModel):
    id: int
    owner_id: int
    name: str
    description: str | None
    is_public: bool
    track_ids: list[int]
    created_at: datetime
    updated_at: datetime


# --- entities, audit rendering, transactions -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entity:
    name: str  # the audit's entity_type and the prefix of its actions
    table: repo.Table
    columns: tuple[str, ...]  # read back after every write
    personal: frozenset[str]  # redacted in the audit log


_STAMPS = ("created_at", "updated_at")
USER = _Entity("user", "users", ("id", "username", "email", "display_name", "country", *_STAMPS),
               frozenset({"username", "email", "display_name", "country"}))
CREATOR = _Entity("creator", "creators",
                  ("id", "user_id", "name", "bio", "verified", "wallet_ciphertext", "wallet_blind_index",
                   "market_cap_attofil", *_STAMPS),
                  frozenset({"name", "bio"}))
TRACK = _Entity("track", "tracks", ("id", "creator_id", "title", "genre", "duration_ms", "released_at",
                                    "price_attofil", "play_count", "like_count", "comment_count", *_STAMPS),
                frozenset())
PLAYLIST = _Entity("playlist", "playlists", ("id", "owner_id", "name", "description", "is_public", *_STAMPS),
                   frozenset({"name", "description"}))

# The wallet is audited through its blind index (equal exactly when the address is), shown as
# "[encrypted]"; the ciphertext is left out: it differs on every write and is a secret.
_WALLET = "wallet_blind_index"
_NOT_AUDITED = frozenset({"id", "wallet_ciphertext", *_STAMPS})

_CONFLICTS = {
    "uq_users_username_live": "this username is taken by another live user",
    "uq_creators_user_id": "this user already has a creator account",
    "uq_creators_wallet_blind_index": "this wallet belongs to another creator",
}


def _audit_value(entity: _Entity, column: str, value: Any) -> Any:
    if value is None:
        return None
    if column == _WALLET:
        return "[encrypted]"
    return "[redacted]" if column in entity.personal else to_jsonable_python(value)


def _audited(entity: _Entity, row: Mapping[str, Any], only: set[str] | None = None) -> dict[str, Any]:
    return {
        "wallet" if column == _WALLET else column: _audit_value(entity, column, value)
        for column, value in row.items()
        if column not in _NOT_AUDITED and (only is None or column in only)
    }


def _changes(entity: _Entity, before: RowMapping, after: RowMapping) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = {column for column, value in before.items() if after[column] != value}
    return _audited(entity, before, changed), _audited(entity, after, changed)


@contextmanager
def _admin_transaction(statement_timeout_ms: int | None = None) -> Iterator[Connection]:
    """One transaction per action; a unique constraint the action breaks becomes a 409."""
    with api_write(statement_timeout_ms) as conn:
        try:
            yield conn
        except IntegrityError as exc:
            constraint = repo.violated_constraint(exc)
            if constraint not in _CONFLICTS:
                raise
            raise Conflict(_CONFLICTS[constraint], {"constraint": constraint}) from None


def _require_live(conn: Connection, entity: _Entity, field: str, ids: list[int],
                  lock: repo.RowLock = "FOR SHARE") -> None:
    missing = sorted(set(ids) - repo.live_ids(conn, entity.table, ids, lock))
    if missing:
        raise BadRequest(f"{field} names {entity.name}s that do not exist or were deleted",
                         {"field": field, "ids": missing}, code="unknown_reference")


def _lock(conn: Connection, entity: _Entity, row_id: int) -> RowMapping:
    row = repo.lock_live_row(conn, entity.table, row_id, entity.columns)
    if row is None:
        raise NotFound(f"{entity.name} {row_id} not found")
    return row


def _create(conn: Connection, actor: str, entity: _Entity, values: Mapping[str, Any],
            audit_extra: Mapping[str, Any] | None = None) -> RowMapping:
    row = repo.insert_row(conn, entity.table, values, entity.columns)
    write_audit(conn, actor, f"{entity.name}.create", entity.name, row["id"], None,
                {**_audited(entity, row), **(audit_extra or {})})
    return row


def _update(conn: Connection, actor: str, entity: _Entity, row_id: int, values: Mapping[str, Any]) -> RowMapping:
    before = _lock(conn, entity, row_id)
    after = repo.update_row(conn, entity.table, row_id, values, entity.columns)
    write_audit(conn, actor, f"{entity.name}.update", entity.name, row_id, *_changes(entity, before, after))
    return after


# --- users ---------------------------------------------------------------------------------------


def create_user(actor: str, body: UserCreate) -> AdminUserOut:
    with _admin_transaction() as conn:
        row = _create(conn, actor, USER, body.model_dump())
        repo.count_sign_up(conn)
    return AdminUserOut.model_validate(dict(row))


def update_user(actor: str, user_id: int, body: UserPatch) -> AdminUserOut:
    with _admin_transaction() as conn:
        row = _update(conn, actor, USER, user_id, body.changes())
    return AdminUserOut.model_validate(dict(row))


def erase_user(actor: str, user_id: int) -> None:
    """GDPR erasure; the audit row's ``before`` is the redacted account, its ``after`` the counts."""
    # unlinking a heavy listener's plays touches many rows: more than a request's usual limit
    with _admin_transaction(statement_timeout_ms=ERASURE_TIMEOUT_MS) as conn:
        before = _lock(conn, USER, user_id)
        erased = repo.erase_user(conn, user_id)
        write_audit(conn, actor, "user.erase", USER.name, user_id, _audited(USER, before), asdict(erased))


# --- creators ------------------------------------------------------------------------------------


def _wallet_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Swap a plaintext ``wallet_address`` (if sent) for its ciphertext and blind index."""
    if "wallet_address" not in values:
        return values
    address = values.pop("wallet_address")
    if address is None:
        return {**values, "wallet_ciphertext": None, "wallet_blind_index": None}
    sealed = encrypt_wallet(address)
    return {**values, "wallet_ciphertext": sealed.ciphertext, "wallet_blind_index": sealed.blind_index}


def _creator_out(row: RowMapping) -> AdminCreatorOut:
    ciphertext, market_cap = row["wallet_ciphertext"], row["market_cap_attofil"]
    return AdminCreatorOut.model_validate(
        {**row, "wallet_address": None if ciphertext is None else decrypt_wallet(ciphertext),
         "market_cap_attofil": None if market_cap is None else str(int(market_cap))})


def _creator_values(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("market_cap_attofil") is not None:
        values["market_cap_attofil"] = int(values["market_cap_attofil"])
    return _wallet_columns(values)


def create_creator(actor: str, body: CreatorCreate) -> AdminCreatorOut:
    values = _creator_values(body.model_dump())
    with _admin_transaction() as conn:
        _require_live(conn, USER, "user_id", [body.user_id])
        row = _create(conn, actor, CREATOR, values)
    return _creator_out(row)


def update_creator(actor: str, creator_id: int, body: CreatorPatch) -> AdminCreatorOut:
    values = _creator_values(body.changes())
    with _admin_transaction() as conn:
        row = _update(conn, actor, CREATOR, creator_id, values)
    return _creator_out(row)


# --- tracks --------------------------------------------------------------------------------------


def _track_values(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("price_attofil") is not None:
        values["price_attofil"] = int(values["price_attofil"])
    return values


def _refresh_score(conn: Connection, creator_id: int) -> None:
    # The stored engagement score counts live releases of the last 90 days: any track write moves it.
    refresh_engagement_scores(conn, datetime.now(UTC), [creator_id])


def create_track(actor: str, body: TrackCreate) -> AdminTrackOut:
    with _admin_transaction() as conn:
        # its counters change below: take the write lock now
        _require_live(conn, CREATOR, "creator_id", [body.creator_id], lock="FOR NO KEY UPDATE")
        row = _create(conn, actor, TRACK, _track_values(body.model_dump()))
        repo.move_creator_counters(conn, body.creator_id, tracks=1)
        _refresh_score(conn, body.creator_id)
    return AdminTrackOut.model_validate(dict(row))


def update_track(actor: str, track_id: int, body: TrackPatch) -> AdminTrackOut:
    with _admin_transaction() as conn:
        row = _update(conn, actor, TRACK, track_id, _track_values(body.changes()))
        _refresh_score(conn, row["creator_id"])
    return AdminTrackOut.model_validate(dict(row))


def delete_track(actor: str, track_id: int) -> None:
    """Soft delete; the creator's counters are over live tracks, so the track's own counts leave them."""
    with _admin_transaction() as conn:
        track = _lock(conn, TRACK, track_id)
        repo.soft_delete_track(conn, track_id)
        repo.move_creator_counters(conn, track["creator_id"], tracks=-1, plays=-track["play_count"],
                                   likes=-track["like_count"], comments=-track["comment_count"])
        _refresh_score(conn, track["creator_id"])
        write_audit(conn, actor, "track.delete", TRACK.name, track_id, _audited(TRACK, track), None)


# --- playlists -----------------------------------------------------------------------------------


def _playlist_out(row: RowMapping, track_ids: list[int]) -> AdminPlaylistOut:
    return AdminPlaylistOut.model_validate({**row, "track_ids": track_ids})


def create_playlist(actor: str, body: PlaylistCreate) -> AdminPlaylistOut:
    values = body.model_dump(exclude={"track_ids"})
    with _admin_transaction() as conn:
        _require_live(conn, USER, "owner_id", [body.owner_id])
        _require_live(conn, TRACK, "track_ids", body.track_ids)
        row = _create(conn, actor, PLAYLIST, values, {"track_ids": body.track_ids})
        repo.replace_playlist_tracks(conn, row["id"], body.track_ids)
    return _playlist_out(row, body.track_ids)


def update_playlist(actor: str, playlist_id: int, body: PlaylistPatch) -> AdminPlaylistOut:
    with _admin_transaction() as conn:
        row = _update(conn, actor, PLAYLIST, playlist_id, body.changes())
        track_ids = repo.playlist_track_ids(conn, playlist_id)
    return _playlist_out(row, track_ids)


def set_playlist_tracks(actor: str, playlist_id: int, body: PlaylistTracks) -> AdminPlaylistOut:
    with _admin_transaction() as conn:
        _lock(conn, PLAYLIST, playlist_id)  # concurrent replacements of one playlist queue here
        _require_live(conn, TRACK, "track_ids", body.track_ids)
        before = repo.playlist_track_ids(conn, playlist_id)
        repo.replace_playlist_tracks(conn, playlist_id, body.track_ids)
        row = repo.update_row(conn, PLAYLIST.table, playlist_id, {}, PLAYLIST.columns)  # bumps updated_at
        write_audit(conn, actor, "playlist.set_tracks", PLAYLIST.name, playlist_id,
                    {"track_ids": before}, {"track_ids": body.track_ids})
    return _playlist_out(row, body.track_ids)
