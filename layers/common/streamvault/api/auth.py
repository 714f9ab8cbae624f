"""Who is calling, as the Lambda authorizer told API Gateway, and what they may do.

The authorizer (``functions/authorizer``) returns a context ``{"keyId": …, "scopes": "read,admin"}``
that API Gateway hands to the API function in ``requestContext.authorizer``; the local server
runs the same authorizer code and fills in the same field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamvault.errors import ClientError


class Unauthorized(ClientError):
    status = 401
    code = "unauthorized"


class Forbidden(ClientError):
    status = 403
    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"api-key:{self.key_id}"


def caller_from_request_context(request_context: dict[str, Any]) -> Caller | None:
    authorizer = request_context.get("authorizer") or {}
    key_id = authorizer.get("keyId")
    if not key_id:
        return None
    scopes = frozenset(s for s in str(authorizer.get("scopes", "")).split(",") if s)
    return Caller(key_id=str(key_id), scopes=scopes)


def require_scope(caller: Caller | None, scope: str) -> Caller:
    if caller is None:
        raise Unauthorized("a valid API key is required in the x-api-key header")
    if scope not in caller.scopes:
        raise Forbidden(f"this API key lacks the {scope!r} scope", {"required": scope})
    return caller
