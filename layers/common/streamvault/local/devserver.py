"""`streamvault dev`: the local stack in one process.

PostgreSQL (``DATABASE_URL``, else embedded under the data dir), migrations, a small demo
dataset, SQS (moto's server on 127.0.0.1, holding the ingest buffer and its dead-letter queue,
drained into the ingest handler as Lambda's SQS trigger would), and an HTTP server on 127.0.0.1
that hands every request to the real Lambda handler of its route as an API Gateway event:
``POST /v1/events`` to the ingest function, everything else to the API function. Ctrl-C stops
all of it.

In front of the handler it plays API Gateway's part: the authorizer (the same code as the
Lambda authorizer, without its cache: a revoked key stops at once) and per-key throttling,
answering 401 and 429 with the project's JSON error body, as the gateway responses do in AWS.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import signal
import sys
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from streamvault.api.authorizer import AuthorizerContext, authorize
from streamvault.api.ratelimit import RateLimiter
from streamvault.config import configure, get_settings
from streamvault.db import migrate
from streamvault.db.engine import dispose_engines, get_engine
from streamvault.errors import error_body
from streamvault.local.apigw import LocalContext, apigw_event, response_parts
from streamvault.local.oracle import start_local_oracle
from streamvault.local.postgres import start_embedded
from streamvault.local.sqs import QueuePoller, create_buffer_queues

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
REPO_ROOT = Path(__file__).resolve().parents[4]
# Routes without the authorizer (in AWS: methods with authorization type NONE).
OPEN_PATHS = frozenset({"/v1/health", "/v1/docs", "/v1/openapi.json"})
API_HANDLER = "functions.api.app.lambda_handler"
INGEST_HANDLER = "functions.ingest.app.lambda_handler"
Handler = Callable[[dict, Any], dict]


def load_handler(dotted: str) -> Callable[[dict, Any], dict]:
    """``functions.api.app.lambda_handler`` → the function, importing from the repository root."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def make_server(host: str, port: int, handler: Handler,
                routes: Mapping[tuple[str, str], Handler] | None = None) -> ThreadingHTTPServer:
    """``routes`` maps (method, path) to another function than ``handler`` (API Gateway's
    per-method integrations)."""
    limiter = RateLimiter()
    routes = routes or {}

    class Bridge(BaseHTTPRequestHandler):
        server_version = "streamvault-local"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                self._error(413, "payload_too_large", "body over 6 MiB")
                return
            body = self.rfile.read(length) if length else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = urlsplit(self.path).path
            authorizer: dict[str, Any] = {}
            if path not in OPEN_PATHS:
                granted = self._admit(headers)
                if granted is None:
                    return
                authorizer = dict(granted)
            event = apigw_event(self.command, self.path, headers, body, source_ip=self.client_address[0],
                                authorizer=authorizer)
            target = routes.get((self.command, path), handler)
            status, out_headers, data = response_parts(target(event, LocalContext()))
            self._reply(status, out_headers, data)

        def _admit(self, headers: dict[str, str]) -> AuthorizerContext | None:
            """API Gateway's part: the authorizer, then the key's throttle; on refusal, answer and return None."""
            granted = authorize(headers)
            if granted is None:
                self._error(401, "unauthorized", "a valid API key is required in the x-api-key header")
                return None
            wait_s = limiter.try_acquire(granted["keyId"], granted["rateLimitPerS"], granted["burst"])
            if wait_s is not None:
                self._error(429, "too_many_requests", "rate limit exceeded for this API key",
                            {"retry-after": str(max(1, math.ceil(wait_s)))})
                return None
            return granted

        def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
            """What API Gateway answers itself (gateway responses), before the API function runs."""
            self._reply(status, {"content-type": "application/json", **(headers or {})},
                        json.dumps(error_body(code, message)).encode())

        def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # every method (GET… or QUERY, TRACE) reaches the handler, which answers the unknown
            # ones as API Gateway's API would, instead of http.server's HTML 501
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return ThreadingHTTPServer((host, port), Bridge)


def prepare_database(demo_creators: int, demo_plays: int) -> str:
    """Point the settings at a database (starting the embedded one if needed), migrate, seed."""
    settings = get_settings()
    url = settings.database_url
    if not url:
        url = start_embedded((settings.data_dir / "pgdata").resolve())
        configure(database_url=url)
        dispose_engines()
    migrate.upgrade()
    from streamvault.db.seed import DatabaseNotEmpty, seed_database

    try:
        report = seed_database(get_engine(), creators=demo_creators, plays=demo_plays)
        print(f"seeded demo data: {report.creators} creators, {report.plays:,} plays in {report.seconds:.1f} s",
              flush=True)
    except DatabaseNotEmpty:
        print("database already has data: not seeding", flush=True)
    return url


def start_ingest_buffer(ingest_handler: Handler) -> tuple[ThreadedMotoServer, QueuePoller]:
    """moto's SQS server on a free local port, the buffer queues in it, the settings pointed at
    them, and a poller draining the buffer into the ingest handler."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per poll of the queue
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    settings = get_settings()
    sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=endpoint,
                       aws_access_key_id="local", aws_secret_access_key="local")
    queue_url, dlq_url = create_buffer_queues(sqs, visibility_timeout_s=5)
    configure(**{**settings.model_dump(), "sqs_endpoint_url": endpoint, "ingest_buffer_queue_url": queue_url,
                 "health_queue_urls": {"ingest-buffer": queue_url, "ingest-buffer-dlq": dlq_url}})
    poller = QueuePoller(sqs, queue_url, ingest_handler)
    poller.start()
    return moto, poller


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(port: int, host: str = "127.0.0.1", demo_creators: int = 50, demo_plays: int = 20_000) -> None:
    # SIGTERM (a process manager, an IDE's stop button) stops it like Ctrl-C: through the
    # cleanup below and the exit handlers that stop the embedded PostgreSQL; by default it would
    # kill this process alone and leave anvil and PostgreSQL running.
    signal.signal(signal.SIGTERM, _interrupt)
    url = prepare_database(demo_creators, demo_plays)
    ingest_handler = load_handler(INGEST_HANDLER)
    moto, poller = start_ingest_buffer(ingest_handler)
    server = make_server(host, port, load_handler(API_HANDLER), {("POST", "/v1/events"): ingest_handler})
    oracle = start_local_oracle()  # anvil + contract + the sync on an interval (streamvault.local.oracle)
    print(f"database: {url}", flush=True)
    print(f"ingest buffer: {get_settings().ingest_buffer_queue_url} (moto)", flush=True)
    if oracle is not None:
        print(f"oracle: {oracle.contract} on {oracle.node.url}, synced every "
              f"{get_settings().oracle_local_sync_interval_s} s", flush=True)
    print(f"StreamVault API listening on http://{host}:{server.server_port}  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        poller.stop()
        if oracle is not None:
            oracle.stop()
        moto.stop()
        dispose_engines()
        print("stopped", flush=True)
