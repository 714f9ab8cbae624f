"""Turn a plain HTTP request into an API Gateway (REST, payload v1) proxy event and back.

The local server and the tests call the real Lambda handlers with these events, so what runs
locally is what runs behind API Gateway.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class LocalContext:
    """The attributes of a Lambda context that Powertools reads."""

    function_name: str = "streamvault-local"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:streamvault-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def apigw_event(
    method: str, raw_path: str, headers: dict[str, str] | None = None, body: bytes | str | None = None,
    source_ip: str = "127.0.0.1", authorizer: dict[str, Any] | None = None,
    multi_value_headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """``multi_value_headers``: headers sent on several lines (each list non-empty). As API Gateway
    does, ``multiValueHeaders`` holds every line and ``headers`` only the last."""
    parts = urlsplit(raw_path)
    query = parse_qs(parts.query, keep_blank_values=True)
    headers = dict(headers or {})
    multi = {k: [v] for k, v in headers.items()}
    for name, values in (multi_value_headers or {}).items():
        multi[name], headers[name] = list(values), values[-1]
    is_binary = isinstance(body, bytes)
    if is_binary:
        try:
            body, is_binary = body.decode("utf-8"), False  # type: ignore[union-attr]
        except UnicodeDecodeError:
            body = base64.b64encode(body).decode()  # type: ignore[arg-type]
    return {
        "resource": parts.path,
        "path": parts.path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "local",
            "httpMethod": method.upper(),
            "path": parts.path,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("user-agent", "")},
            "authorizer": authorizer or {},
        },
        "body": body,
        "isBase64Encoded": is_binary,
    }


def response_parts(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body bytes of a proxy integration result."""
    headers = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return int(result["statusCode"]), headers, data
