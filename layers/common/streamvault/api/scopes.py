"""Route-level middleware: the caller must hold a scope (401 without a key, 403 without the scope)."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from streamvault.api.auth import Caller, caller_from_request_context, require_scope

CALLER_KEY = "caller"  # where the checked caller is kept in the resolver's context


def requires(scope: str) -> Callable[[ApiGatewayResolver, NextMiddleware], Response]:
    def check_scope(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response:
        caller = caller_from_request_context(app.current_event.raw_event.get("requestContext") or {})
        app.append_context(**{CALLER_KEY: require_scope(caller, scope)})
        return next_middleware(app)

    check_scope.__name__ = f"requires_{scope}"
    return check_scope


def current_caller(app: ApiGatewayResolver) -> Caller:
    return app.context[CALLER_KEY]
