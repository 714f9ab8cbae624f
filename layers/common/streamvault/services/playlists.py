"""Public playlists: one with its tracks in order, and a user's list. Private playlists and
those of deleted accounts do not exist as far as the API can tell (404)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from streamvault.db.repositories import playlists as repo
from streamvault.errors import NotFound
from streamvault.services.database import api_read
from streamvault.services.tracks import CreatorRef


class UserRef(BaseModel):
    """An account's public face: never its email."""

    id: int
    username: str
    display_name: str | None


class PlaylistTrackRef(BaseModel):
    id: int
    title: str
    duration_ms: int
    creator: CreatorRef


class PlaylistEntryOut(BaseModel):
    position: int
    added_at: datetime
    track: PlaylistTrackRef


class PlaylistOut(BaseModel):
    id: int
    name: str
    description: str | None
    owner: UserRef
    created_at: datetime
    updated_at: datetime
    tracks: list[PlaylistEntryOut]


class PlaylistSummaryOut(BaseModel):
    id: int
    name: str
    description: str | None
    track_count: int
    created_at: datetime
    updated_at: datetime


class UserPlaylistsOut(BaseModel):
    user: UserRef
    items: list[PlaylistSummaryOut]


def playlist(playlist_id: int) -> PlaylistOut:
    with api_read() as conn:
        head = repo.get_public_playlist(conn, playlist_id)
        if head is None:
            raise NotFound(f"playlist {playlist_id} not found")
        entries = repo.playlist_entries(conn, playlist_id)
    return PlaylistOut.model_validate({**head, "tracks": entries})


def user_playlists(user_id: int) -> UserPlaylistsOut:
    with api_read() as conn:
        user = repo.get_live_user(conn, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        items = repo.public_playlists_of(conn, user_id)
    return UserPlaylistsOut.model_validate({"user": user, "items": items})
