"""Conditional GETs for the read routes: a strong ETag over the body, ``Cache-Control``, and 304.

Applied as route middleware (``READ`` in ``streamvault.api.reads``), so it sees the successful
responses only: errors are exceptions handled outside the route's middleware and get neither
header. Responses depend on the caller's key (scopes, later per-key views), hence ``private``.
"""

from __future__ import annotations

import hashlib
import json

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from streamvault.config import get_settings


def etag_of(body: bytes) -> str:
    """A strong validator: the same bytes give the same tag, any change gives another."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches_if_none_match(header_values: list[str], etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` matches any current representation; tags compare weakly
    (``W/"x"`` matches ``"x"``); one or several header lines of comma-separated tags."""
    for value in header_values:
        for tag in value.split(","):
            tag = tag.strip()
            if tag == "*" or tag.removeprefix("W/") == etag:
                return True
    return False


def conditional_get(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response:
    response = next_middleware(app)
    if response.status_code != 200 or not response.is_json():
        return response
    # Serialize here, once, the way the resolver would (compact JSON): build() leaves a str body as it is.
    body = response.body if isinstance(response.body, str) else json.dumps(response.body, separators=(",", ":"))
    headers = {
        "ETag": etag_of(body.encode()),
        "Cache-Control": f"private, max-age={get_settings().api_cache_max_age_s}",
    }
    event = app.current_event
    sent = event.multi_value_headers.get("if-none-match") or [event.headers.get("if-none-match", "")]
    if matches_if_none_match(sent, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    response.body = body
    response.headers.update(headers)
    return response
