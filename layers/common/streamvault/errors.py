"""Errors a client can cause, and the one JSON shape they take: {"error": {code, message, details}}."""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(ClientError):
    """400 with a specific code, e.g. ``BadRequest("…", code="bad_cursor")``."""

    def __init__(self, message: str, details: Any = None, code: str = "bad_request") -> None:
        super().__init__(message, details)
        self.code = code


class NotFound(ClientError):
    status = 404
    code = "not_found"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


class Conflict(ClientError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ClientError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ClientError):
    status = 415
    code = "unsupported_media_type"
