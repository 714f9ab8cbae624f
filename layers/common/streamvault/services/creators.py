"""Creators: profile (counters, live engagement score, revenue, milestones, on-chain state),
sorted lists, and daily series. Every figure comes from counters and rollups."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field
from pydantic_core import to_json

from streamvault.api.pagination import MAX_BIGINT, KeysetCursor, Page, RowId, page_of
from streamvault.db.repositories import creators as repo
from streamvault.db.repositories.creators import CreatorFilters, CreatorProfile, CreatorSort, SyncState
from streamvault.db.repositories.stats import creator_daily_series
from streamvault.domain.engagement import engagement_score
from streamvault.errors import NotFound
from streamvault.services.database import api_read
from streamvault.services.stats import DayCounts, SeriesRange, resolve_range

# models.MILESTONE_TYPES, spelled out like the oracle's enums (see services.oracle)
MilestoneType = Literal["PLAYS", "FOLLOWERS", "REVENUE"]
_Count = Annotated[int, Field(ge=0, le=MAX_BIGINT)]
# One cursor type per ordering, keyed by (that ordering's sort value, id): a cursor from one
# ordering is refused by the others.
_CURSORS: dict[CreatorSort, KeysetCursor] = {
    "engagement": KeysetCursor("engagement", tuple[Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)], RowId]),
    "plays": KeysetCursor("plays", tuple[_Count, RowId]),
    "followers": KeysetCursor("followers", tuple[_Count, RowId]),
    "newest": KeysetCursor("newest", tuple[AwareDatetime, RowId]),
}


class EngagementOut(BaseModel):
    score: float = Field(description="0–100: the exact sum of the three terms, rounded to 2 decimals")
    play_to_follower_ratio: float = Field(description="min(plays / followers / 10, 40)")
    interaction_rate: float = Field(description="min((likes + 2 × comments) / plays × 100, 30)")
    content_consistency: float = Field(description="min(tracks released in 90 days / 3 × 10, 30)")
    tracks_last_90d: int


class MilestoneOut(BaseModel):
    milestone_type: MilestoneType
    threshold: str = Field(description="integer as a string (attoFIL for REVENUE)")
    value_reached: str = Field(description="integer as a string (attoFIL for REVENUE)")
    reached_at: datetime
    action_tx_hash: str | None


class SyncStateOut(BaseModel):
    """The metrics the chain last confirmed, and when."""

    epoch: int
    plays: int
    followers: int
    engagement_bps: int = Field(description="engagement score × 100")
    monthly_revenue_attofil: str = Field(description="integer attoFIL, as a string")
    synced_at: datetime
    tx_hash: str | None


class _CreatorFigures(BaseModel):
    """What lists and profiles both show."""

    id: int
    name: str
    verified: bool
    followers: int
    total_plays: int
    likes: int
    comments: int
    tracks: int
    coin_address: str | None
    created_at: datetime


class CreatorOut(_CreatorFigures):
    bio: str | None
    engagement: EngagementOut
    monthly_revenue_attofil: str = Field(description="integer attoFIL, as a string to keep precision in JSON")
    revenue_sharing_enabled: bool
    milestones: list[MilestoneOut] = Field(description="oldest first")
    last_sync: SyncStateOut | None = Field(description="null until the oracle first syncs this creator")


class CreatorSummaryOut(_CreatorFigures):
    engagement_score: float = Field(description="the stored score the list sorts by (refreshed as counters move)")


class CreatorPage(Page[CreatorSummaryOut]):
    pass


class CreatorDayOut(DayCounts):
    unfollows: int


class CreatorStatsOut(SeriesRange):
    creator_id: int
    days: list[CreatorDayOut] = Field(description="every day of the range, in order; zeros on quiet days")


def _not_found(creator_id: int) -> NotFound:
    return NotFound(f"creator {creator_id} not found")


def get_creator(creator_id: int) -> CreatorOut:
    with api_read() as conn:
        profile = repo.get_creator_profile(conn, creator_id, as_of=datetime.now(UTC))
    if profile is None:
        raise _not_found(creator_id)
    return _creator_out(profile)


def _creator_out(profile: CreatorProfile) -> CreatorOut:
    counts = profile.engagement_inputs
    score = engagement_score(counts)
    return CreatorOut(
        id=profile.id, name=profile.name, bio=profile.bio, verified=profile.verified,
        followers=counts.followers, total_plays=counts.total_plays, likes=counts.likes, comments=counts.comments,
        tracks=profile.track_count,
        engagement=EngagementOut(
            score=float(score.score), play_to_follower_ratio=float(score.play_to_follower_ratio),
            interaction_rate=float(score.interaction_rate), content_consistency=float(score.content_consistency),
            tracks_last_90d=counts.tracks_last_90d,
        ),
        monthly_revenue_attofil=str(profile.monthly_revenue_attofil),
        coin_address=profile.coin_address, revenue_sharing_enabled=profile.revenue_sharing_enabled,
        created_at=profile.created_at,
        milestones=[MilestoneOut.model_validate(ms) for ms in profile.milestones],
        last_sync=None if profile.sync_state is None else _sync_state_out(profile.sync_state),
    )


def _sync_state_out(state: SyncState) -> SyncStateOut:
    return SyncStateOut(
        epoch=state.epoch, plays=state.plays, followers=state.followers, engagement_bps=state.engagement_bps,
        monthly_revenue_attofil=str(state.monthly_revenue_attofil), synced_at=state.synced_at,
        tx_hash=state.tx_hash,
    )


def list_creators(sort: CreatorSort, limit: int, cursor: str | None, *, verified: bool | None = None,
                  min_followers: int | None = None, has_coin: bool | None = None) -> CreatorPage:
    codec = _CURSORS[sort]
    after = None if cursor is None else codec.decode(cursor)
    filters = CreatorFilters(verified=verified, min_followers=min_followers, has_coin=has_coin)
    with api_read(analytics=True) as conn:
        rows = repo.list_creators(conn, sort, filters, limit + 1, after)
    page, last = page_of(rows, limit)
    return CreatorPage(
        items=[CreatorSummaryOut.model_validate(r) for r in page],
        next_cursor=None if last is None else codec.encode((last["sort_value"], last["id"])),
    )


def creator_stats(creator_id: int, start: date | None, end: date | None) -> str:
    """The body as JSON, serialized straight from the rows: a model per day would cost a fifth of
    the route's time. ``CreatorStatsOut`` documents it; a test holds the body to that model."""
    start, end = resolve_range(start, end)
    with api_read(analytics=True) as conn:
        days = creator_daily_series(conn, creator_id, start, end)
    if not days:
        raise _not_found(creator_id)
    return to_json({"from": start, "to": end, "creator_id": creator_id, "days": days}).decode()
