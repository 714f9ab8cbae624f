"""Read routes (scope ``read``; health is open).

Every read route answers with ETag and Cache-Control and honours If-None-Match (``READ``).
Parameters are declared with their bounds, so a malformed one is a 422 before any query runs.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from streamvault.api.caching import conditional_get
from streamvault.api.pagination import MAX_BIGINT
from streamvault.api.scopes import requires
from streamvault.services import creators, oracle, playlists, stats, tracks
from streamvault.services.health import HealthOut, get_health

router = APIGatewayRouter()
READ = [requires("read"), conditional_get]
OPEN: list[dict[str, list[str]]] = [{}]  # OpenAPI: an empty requirement overrides the API-wide key

Id = Annotated[int, Path(ge=1, le=MAX_BIGINT)]
Limit = Annotated[int, Query(ge=1, le=100, description="items per page")]
# No max_length here: an overlong cursor is a bad cursor (400), like any other.
Cursor = Annotated[str | None, Query(description="opaque: the `next_cursor` of the previous page")]
From = Annotated[date | None, Query(alias="from", description="first day (UTC), YYYY-MM-DD; default: `to` − 29 days")]
To = Annotated[date | None, Query(description="last day (UTC), inclusive; default: today")]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    """The shape of every error (``streamvault.errors.error_body``)."""

    error: ErrorBody


def error_response(description: str) -> OpenAPIResponse:
    """An error status in the OpenAPI document, with the project's error shape as its body."""
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": ErrorOut}}}


_CACHED_OK: OpenAPIResponse = {"description": "OK", "headers": {
    "ETag": {"description": "strong validator of this body", "schema": {"type": "string"}},
    "Cache-Control": {"description": "private, max-age=N", "schema": {"type": "string"}},
}}
# Every keyed route, read or admin, may answer these.
KEYED_ROUTE_ERRORS = {
    401: error_response("unauthorized: no valid API key"),
    429: error_response("too_many_requests: over the key's rate limit; the Retry-After header says when to retry"),
    503: error_response("database_unavailable: retry later"),
}
_ALWAYS = {
    # empty content: without it the document would give the 304 the 200's body
    304: {"description": "Not Modified: If-None-Match holds the current ETag (or *); no body", "content": {}},
    **KEYED_ROUTE_ERRORS,
    403: error_response("forbidden: the key lacks the read scope"),
    422: error_response("validation_error: a path or query parameter is malformed or out of range"),
}


def documented(*, not_found: str | None = None, bad_request: str | None = None,
               model: type[BaseModel] | None = None) -> dict[int, OpenAPIResponse]:
    """The responses of a read route: 200 (its return annotation, or ``model`` for a route that
    serializes its body itself), 304, and its errors."""
    extra = {status: error_response(text) for status, text in ((400, bad_request), (404, not_found)) if text}
    ok = _CACHED_OK if model is None else {**_CACHED_OK, "content": {content_types.APPLICATION_JSON: {"model": model}}}
    return {200: ok, **_ALWAYS, **extra}


def json_ok(body: str) -> Response[str]:
    """A 200 whose body is JSON text already: the resolver passes a string body through as it is."""
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


def serialized(body: BaseModel) -> Response[str]:
    """The hot reads' body, serialized once by pydantic (in Rust). A model returned as such would
    be validated and walked again by the resolver's response handling: a third of these routes'
    time. The services build these models with validation, so nothing unchecked goes out."""
    return json_ok(body.model_dump_json(by_alias=True))


_BAD_CURSOR = "bad_cursor: not a cursor this list issued for this sort"
_BAD_RANGE = "bad_date_range: from after to, or over 366 days"


@router.get("/v1/health", tags=["health"], security=OPEN, responses={
    200: {"description": "OK (never cached: Cache-Control no-store)"},
    503: {"description": "degraded: the database does not answer (same body)"},
})
def health() -> Response[HealthOut]:
    out = get_health()
    return Response(status_code=200 if out.status == "ok" else 503, content_type=content_types.APPLICATION_JSON,
                    body=out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.get("/v1/creators", tags=["creators"], middlewares=READ, responses=documented(bad_request=_BAD_CURSOR))
def creator_list(
    sort: creators.CreatorSort = "engagement",
    verified: bool | None = None,
    min_followers: Annotated[int | None, Query(ge=0, le=MAX_BIGINT)] = None,
    has_coin: bool | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> creators.CreatorPage:
    """Live creators, best first by `sort` (ties by id), one page at a time."""
    return creators.list_creators(sort, limit, cursor, verified=verified, min_followers=min_followers,
                                  has_coin=has_coin)


@router.get("/v1/creators/<creator_id>", tags=["creators"], middlewares=READ,
            responses=documented(not_found="not_found: no such live creator", model=creators.CreatorOut))
def creator(creator_id: Id) -> Response[str]:
    return serialized(creators.get_creator(creator_id))


@router.get("/v1/creators/<creator_id>/stats", tags=["creators"], middlewares=READ,
            responses=documented(not_found="not_found: no such live creator", bad_request=_BAD_RANGE,
                                 model=creators.CreatorStatsOut))
def creator_stats(creator_id: Id, from_: From = None, to: To = None) -> Response[str]:
    """The creator's daily figures, every day of the range."""
    return json_ok(creators.creator_stats(creator_id, from_, to))


@router.get("/v1/tracks/<track_id>", tags=["catalog"], middlewares=READ,
            responses=documented(not_found="not_found: no such live track"))
def track(track_id: Id) -> tracks.TrackOut:
    return tracks.track(track_id)


@router.get("/v1/playlists/<playlist_id>", tags=["catalog"], middlewares=READ,
            responses=documented(not_found="not_found: no such public playlist"))
def playlist(playlist_id: Id) -> playlists.PlaylistOut:
    return playlists.playlist(playlist_id)


@router.get("/v1/users/<user_id>/playlists", tags=["catalog"], middlewares=READ,
            responses=documented(not_found="not_found: no such live user"))
def user_playlists(user_id: Id) -> playlists.UserPlaylistsOut:
    """The user's public playlists, newest first."""
    return playlists.user_playlists(user_id)


@router.get("/v1/stats/daily", tags=["stats"], middlewares=READ, responses=documented(bad_request=_BAD_RANGE))
def daily_stats(from_: From = None, to: To = None) -> stats.PlatformStatsOut:
    """Platform-wide daily figures, every day of the range."""
    return stats.platform_stats(from_, to)


@router.get("/v1/oracle/sync-stats", tags=["oracle"], middlewares=READ, responses=documented())
def oracle_sync_stats(hours: Annotated[int, Query(ge=1, le=720)] = 24) -> oracle.SyncStatsOut:
    return oracle.oracle_sync_stats(hours)


@router.get("/v1/oracle/logs", tags=["oracle"], middlewares=READ, responses=documented(bad_request=_BAD_CURSOR))
def oracle_logs(
    status: oracle.OracleStatus | None = None,
    operation: oracle.OracleOperation | None = None,
    creator_id: Annotated[int | None, Query(ge=1, le=MAX_BIGINT)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> oracle.OracleLogPage:
    """On-chain operation attempts, newest first."""
    return oracle.oracle_logs(limit, cursor, status, operation, creator_id)
