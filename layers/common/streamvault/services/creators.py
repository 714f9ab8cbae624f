"""Creator profile with counters and the engagement score, all from counters and rollups."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from streamvault.db.engine import get_engine
from streamvault.db.repositories.creators import get_creator_profile
from streamvault.domain.engagement import engagement_score
from streamvault.errors import NotFound


class EngagementOut(BaseModel):
    score: float = Field(description="0–100: the exact sum of the three terms, rounded to 2 decimals")
    play_to_follower_ratio: float = Field(description="min(plays / followers / 10, 40)")
    interaction_rate: float = Field(description="min((likes + 2 × comments) / plays × 100, 30)")
    content_consistency: float = Field(description="min(tracks released in 90 days / 3 × 10, 30)")
    tracks_last_90d: int


class CreatorOut(BaseModel):
    id: int
    name: str
    bio: str | None
    verified: bool
    followers: int
    total_plays: int
    likes: int
    comments: int
    tracks: int
    engagement: EngagementOut
    monthly_revenue_attofil: str = Field(description="integer attoFIL, as a string to keep precision in JSON")
    coin_address: str | None
    revenue_sharing_enabled: bool
    created_at: datetime


def get_creator(creator_id: int) -> CreatorOut:
    with get_engine().connect() as conn:
        profile = get_creator_profile(conn, creator_id, as_of=datetime.now(UTC))
    if profile is None:
        raise NotFound(f"creator {creator_id} not found")
    m = profile.metrics
    score = engagement_score(m.engagement_inputs)
    return CreatorOut(
        id=profile.id, name=profile.name, bio=profile.bio, verified=profile.verified,
        followers=m.followers, total_plays=m.plays, likes=m.likes, comments=m.comments, tracks=profile.track_count,
        engagement=EngagementOut(
            score=float(score.score), play_to_follower_ratio=float(score.play_to_follower_ratio),
            interaction_rate=float(score.interaction_rate), content_consistency=float(score.content_consistency),
            tracks_last_90d=m.tracks_90d,
        ),
        monthly_revenue_attofil=str(m.monthly_revenue_attofil),
        coin_address=profile.coin_address, revenue_sharing_enabled=profile.revenue_sharing_enabled,
        created_at=profile.created_at,
    )
