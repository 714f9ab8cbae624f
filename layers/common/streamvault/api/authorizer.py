"""API key → authorizer context: the logic of the Lambda authorizer, shared with the local server.

The context is what API Gateway hands the API function in ``requestContext.authorizer``
(``streamvault.api.auth.caller_from_request_context`` reads it back). Values are strings and
numbers only, as API Gateway requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from streamvault.config import get_settings
from streamvault.db.engine import get_engine
from streamvault.db.repositories.api_keys import find_live_key

API_KEY_HEADER = "x-api-key"


class AuthorizerContext(TypedDict):
    keyId: str
    scopes: str  # comma-separated: context values cannot be lists
    rateLimitPerS: int  # the key's own limits, else the defaults: what the local server throttles with
    burst: int


def api_key_from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The ``x-api-key`` header's value, whatever the header name's case."""
    for name, value in (headers or {}).items():
        if name.lower() == API_KEY_HEADER:
            return value.strip() or None
    return None


def authorize(headers: Mapping[str, str] | None) -> AuthorizerContext | None:
    """The context for a live key, or None when the key is missing, unknown or revoked."""
    key = api_key_from_headers(headers)
    if key is None:
        return None
    # The primary, not a replica: a key revoked a moment ago must stop working.
    with get_engine().connect() as conn:
        info = find_live_key(conn, key)
    if info is None:
        return None
    settings = get_settings()
    return AuthorizerContext(
        keyId=str(info.id),
        scopes=",".join(info.scopes),
        rateLimitPerS=info.rate_limit_per_s or settings.api_rate_limit_per_s,
        burst=info.burst or settings.api_burst,
    )
