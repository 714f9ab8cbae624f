"""Read routes (scope ``read``; health is open)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from streamvault.api.scopes import requires
from streamvault.services.creators import CreatorOut, get_creator
from streamvault.services.health import HealthOut, get_health

router = APIGatewayRouter()
READ = [requires("read")]

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/v1/health", tags=["health"])
def health() -> Response[HealthOut]:
    out = get_health()
    return Response(status_code=200 if out.status == "ok" else 503, content_type=content_types.APPLICATION_JSON,
                    body=out.model_dump(mode="json"))


@router.get("/v1/creators/<creator_id>", tags=["creators"], middlewares=READ)
def creator(creator_id: Id) -> CreatorOut:
    return get_creator(creator_id)
