"""Administrator routes (scope ``admin``): every change is written to the audit log.

The rules (references, conflicts, redaction, erasure) live in ``streamvault.services.admin``.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from streamvault.api.reads import KEYED_ROUTE_ERRORS, Id, error_response
from streamvault.api.scopes import current_caller, requires
from streamvault.services import admin
from streamvault.services.admin import (
    AdminCreatorOut,
    AdminPlaylistOut,
    AdminTrackOut,
    AdminUserOut,
    CreatorCreate,
    CreatorPatch,
    PlaylistCreate,
    PlaylistPatch,
    PlaylistTracks,
    TrackCreate,
    TrackPatch,
    UserCreate,
    UserPatch,
)

router = APIGatewayRouter()
ADMIN = [requires("admin")]
TAGS = ["admin"]

_SUCCESS: dict[int, OpenAPIResponse] = {
    200: {"description": "the updated resource"},
    201: {"description": "the created resource"},
    204: {"description": "done, no body", "content": {}},  # empty: else the document gives it the return schema
}
_ERRORS: dict[int, OpenAPIResponse] = {
    **KEYED_ROUTE_ERRORS,
    403: error_response("forbidden: the key lacks the admin scope"),
    404: error_response("not_found: no such live row"),
    409: error_response("conflict: the username, the user's creator account or the wallet is taken"),
    415: error_response("unsupported_media_type: the body is not sent as application/json"),
    422: error_response("validation_error: the body or a path parameter is malformed"),
}
_BAD_JSON = "bad_json: the body is not a UTF-8 JSON document"
_UNKNOWN_REFERENCE = "unknown_reference: the body names rows that do not exist or were deleted"


def _responses(success: int, *errors: int, references: bool = False) -> dict[int, OpenAPIResponse]:
    """The OpenAPI responses of an admin route: its success, the errors of every keyed route,
    ``errors``, and for a route that takes a body (all but the 204s) the body's own: 400 (bad
    JSON, or with ``references`` also unknown references) and 415."""
    statuses = (*KEYED_ROUTE_ERRORS, 403, 422, *errors)
    responses = {success: _SUCCESS[success], **{status: _ERRORS[status] for status in statuses}}
    if success != 204:
        responses[400] = error_response("; ".join([_BAD_JSON, *([_UNKNOWN_REFERENCE] if references else [])]))
        responses[415] = _ERRORS[415]
    return responses


def _actor() -> str:
    return current_caller(router).actor  # a router reads the resolver's context, where `requires` put the caller


def _no_content() -> Response[None]:
    return Response(status_code=204)


@router.post("/v1/users", status_code=201, tags=TAGS, middlewares=ADMIN, responses=_responses(201, 409))
def create_user(body: Annotated[UserCreate, Body()]) -> AdminUserOut:
    return admin.create_user(_actor(), body)


@router.patch("/v1/users/<user_id>", tags=TAGS, middlewares=ADMIN, responses=_responses(200, 404, 409))
def update_user(user_id: Id, body: Annotated[UserPatch, Body()]) -> AdminUserOut:
    return admin.update_user(_actor(), user_id, body)


@router.delete("/v1/users/<user_id>", tags=TAGS, middlewares=ADMIN, responses=_responses(204, 404),
               description="GDPR erasure: 204, then 404 for the erased user (like any deleted row)")
def erase_user(user_id: Id) -> Response[None]:
    admin.erase_user(_actor(), user_id)
    return _no_content()


@router.post("/v1/creators", status_code=201, tags=TAGS, middlewares=ADMIN,
             responses=_responses(201, 409, references=True))
def create_creator(body: Annotated[CreatorCreate, Body()]) -> AdminCreatorOut:
    return admin.create_creator(_actor(), body)


@router.patch("/v1/creators/<creator_id>", tags=TAGS, middlewares=ADMIN, responses=_responses(200, 404, 409))
def update_creator(creator_id: Id, body: Annotated[CreatorPatch, Body()]) -> AdminCreatorOut:
    return admin.update_creator(_actor(), creator_id, body)


@router.post("/v1/tracks", status_code=201, tags=TAGS, middlewares=ADMIN, responses=_responses(201, references=True))
def create_track(body: Annotated[TrackCreate, Body()]) -> AdminTrackOut:
    return admin.create_track(_actor(), body)


@router.patch("/v1/tracks/<track_id>", tags=TAGS, middlewares=ADMIN, responses=_responses(200, 404))
def update_track(track_id: Id, body: Annotated[TrackPatch, Body()]) -> AdminTrackOut:
    return admin.update_track(_actor(), track_id, body)


@router.delete("/v1/tracks/<track_id>", tags=TAGS, middlewares=ADMIN, responses=_responses(204, 404))
def delete_track(track_id: Id) -> Response[None]:
    admin.delete_track(_actor(), track_id)
    return _no_content()


@router.post("/v1/playlists", status_code=201, tags=TAGS, middlewares=ADMIN,
             responses=_responses(201, references=True))
def create_playlist(body: Annotated[PlaylistCreate, Body()]) -> AdminPlaylistOut:
    return admin.create_playlist(_actor(), body)


@router.patch("/v1/playlists/<playlist_id>", tags=TAGS, middlewares=ADMIN, responses=_responses(200, 404))
def update_playlist(playlist_id: Id, body: Annotated[PlaylistPatch, Body()]) -> AdminPlaylistOut:
    return admin.update_playlist(_actor(), playlist_id, body)


@router.put("/v1/playlists/<playlist_id>/tracks", tags=TAGS, middlewares=ADMIN,
            responses=_responses(200, 404, references=True))
def set_playlist_tracks(playlist_id: Id, body: Annotated[PlaylistTracks, Body()]) -> AdminPlaylistOut:
    return admin.set_playlist_tracks(_actor(), playlist_id, body)
