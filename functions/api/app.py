"""Read and admin API handler: the resolver, its error shape, and the routers. Never imports web3."""

from __future__ import annotations

from functools import cache

import sqlalchemy.exc
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from streamvault.api import admin, reads
from streamvault.errors import ClientError, error_body
from streamvault.observability import logger

app = APIGatewayRestResolver(enable_validation=True)
# Every documented operation needs the key unless it declares `security=reads.OPEN` (health).
app.configure_openapi(
    title="StreamVault API", version="1",
    security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header)}, security=[{"apiKey": []}],
)
app.enable_swagger(path="/v1/docs", title="StreamVault API", version="1")
app.include_router(reads.router)
app.include_router(admin.router)


@cache  # the routes are fixed once this module is imported: build the document once per container
def _openapi_document() -> str:
    return app.get_openapi_json_schema()


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_openapi_document())


def _error(status: int, code: str, message: str, details: object = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=error_body(code, message, details))


@app.exception_handler(ClientError)
def _client_error(exc: ClientError) -> Response:
    return _error(exc.status, exc.code, exc.message, exc.details)


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response:
    details = [{"loc": list(e.get("loc", ())), "message": e.get("msg")} for e in exc.errors()]
    return _error(422, "validation_error", "the request is not valid", details)


@app.not_found
def _no_route(exc: NotFoundError) -> Response:
    return _error(404, "no_route", f"no route for {app.current_event.http_method} {app.current_event.path}")


@app.exception_handler([sqlalchemy.exc.OperationalError, sqlalchemy.exc.TimeoutError])
def _database_unavailable(exc: Exception) -> Response:
    # Unreachable server (or replica), statement timeout, pool exhausted: ours to fix or wait out.
    logger.warning("database unavailable", exc_info=exc)
    return _error(503, "database_unavailable", "the database is unavailable; retry later")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unhandled error")  # the trace stays in the logs, never in the response
    return _error(500, "internal_error", "internal error")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
