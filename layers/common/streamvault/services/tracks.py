"""A track with its counters, price and creator."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from streamvault.db.repositories.tracks import get_track
from streamvault.errors import NotFound
from streamvault.services.database import api_read


class CreatorRef(BaseModel):
    id: int
    name: str


class TrackOut(BaseModel):
    id: int
    title: str
    genre: str | None
    duration_ms: int
    released_at: datetime
    price_attofil: str = Field(description="integer attoFIL, as a string; 0 for free tracks")
    plays: int
    likes: int
    comments: int
    creator: CreatorRef


def track(track_id: int) -> TrackOut:
    with api_read() as conn:
        row = get_track(conn, track_id)
    if row is None:
        raise NotFound(f"track {track_id} not found")
    return TrackOut.model_validate(row)
