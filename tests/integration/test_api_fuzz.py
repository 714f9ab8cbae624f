"""Schema-driven fuzzing: schemathesis generates requests from the served OpenAPI document and
sends them through the local server (authorizer, rate limit, real handler, real PostgreSQL).
Whatever it sends, the API answers without a 5xx, and as the document says: a documented
status, content type, headers and body schema."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from streamvault.config import configure, reset_settings
from streamvault.db.engine import dispose_engines, get_engine
from streamvault.db.repositories.api_keys import create_key
from streamvault.db.seed import seed_database
from streamvault.local.devserver import make_server
from streamvault.local.postgres import create_database, drop_database, unique_name

from functions.api.app import lambda_handler, openapi_document

SCHEMA = schemathesis.openapi.from_dict(json.loads(openapi_document()))


@pytest.fixture(scope="module")
def live_api(pg_server_url: str, template_database: str) -> Iterator[tuple[str, str]]:
    """(base URL, API key with every scope) of a local server over a small seeded database."""
    name = unique_name("sv_fuzz")
    dispose_engines()
    # generous limits: the fuzzer is one fast client, and 429s would hide what it finds
    configure(database_url=create_database(pg_server_url, name, template=template_database),
              api_rate_limit_per_s=100_000, api_burst=100_000)
    seed_database(get_engine(), creators=20, plays=2_000)
    with get_engine().begin() as conn:
        key, _ = create_key(conn, "fuzz", ["admin", "ingest", "read"])
    server = make_server("127.0.0.1", 0, lambda_handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", key
    finally:
        server.shutdown()
        server.server_close()
        dispose_engines()
        reset_settings()
        drop_database(pg_server_url, name)


@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_5xx_or_an_answer_the_document_does_not_describe(case, live_api):
    base_url, key = live_api
    response = case.call(base_url=base_url, headers={"x-api-key": key})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                             response_headers_conformance, response_schema_conformance])
