"""Read and admin API handler: the resolver, its error shape, and the routers. Never imports web3."""

from __future__ import annotations

import base64
import gc
import json
from functools import cache
from pathlib import Path

import sqlalchemy.exc
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from streamvault.api import admin, reads
from streamvault.api.cors import CORS
from streamvault.errors import ClientError, error_body
from streamvault.observability import correlate_api_request, logger

app = APIGatewayRestResolver(enable_validation=True, cors=CORS)
app.include_router(reads.router)
app.include_router(admin.router)


# The OpenAPI document and its page are built on their first request, not at import: Powertools'
# OpenAPI models (with enable_swagger) take ~100 ms to import, a third of this function's cold
# start, and requests other than these two never need them (validation does not).
@cache  # the routes are fixed once this module is imported: build the document once per container
def openapi_document() -> str:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    # Every documented operation needs the key unless it declares `security=reads.OPEN` (health).
    app.configure_openapi(
        title="StreamVault API", version="1",
        security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header)}, security=[{"apiKey": []}],
    )
    return app.get_openapi_json_schema()


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    return reads.json_ok(openapi_document())


@app.get("/v1/docs", include_in_schema=False)
def docs() -> Response[str]:
    """Swagger UI over the document, from the assets Powertools bundles (as its enable_swagger)."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    assets = Path(swagger_ui.__file__).parent
    page = swagger_ui.generate_swagger_html(
        openapi_document().replace("</", "<\\/"),  # the document sits in a <script>: keep it from closing it
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="", oauth2_config=None,
    )
    return Response(status_code=200, content_type=content_types.TEXT_HTML, body=page)


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


@app.exception_handler(sqlalchemy.exc.DataError)
def _value_refused(exc: Exception) -> Response:
    # A value validation let through but the column refuses (out of range, bad encoding): the
    # client's value, so a 422; logged because validation should have caught it.
    logger.warning("database refused a value", exc_info=exc)
    return _error(422, "validation_error", "a value is out of range or not storable")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unhandled error")  # the trace stays in the logs, never in the response
    return _error(500, "internal_error", "internal error")


def _unreadable_body(event: dict) -> dict | None:
    """Every body this API takes is a JSON document. Anything else (another media type, bytes that
    are not UTF-8, malformed JSON) is refused here with a 4xx: the resolver's own parsing would
    fail on some of these with internal errors."""
    body = event.get("body")
    if not body:
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if headers.get("content-type", "").split(";")[0].strip().lower() != content_types.APPLICATION_JSON:
        return _raw_error(415, "unsupported_media_type", "send the body as application/json")
    try:
        document = json.loads(base64.b64decode(body) if event.get("isBase64Encoded") else body)
    except (ValueError, UnicodeDecodeError):
        return _raw_error(400, "bad_json", "the body is not a valid UTF-8 JSON document")
    if _has_nul(document):  # PostgreSQL text cannot hold NUL characters
        return _raw_error(422, "validation_error", "strings may not contain NUL (\\u0000) characters")
    return None


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _raw_error(status: int, code: str, message: str) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(error_body(code, message))}


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate_api_request(event)
    return _unreadable_body(event) or app.resolve(event, context)


# Everything imported so far lives as long as the container: keep it out of the collector's
# sight, so that full collections during requests (latency spikes) only walk per-request objects.
gc.freeze()
