"""`streamvault dev`: the local stack in one process.

PostgreSQL (``DATABASE_URL``, else embedded under the data dir), migrations, a small demo
dataset, and an HTTP server on 127.0.0.1 that hands every request to the real API Lambda
handler as an API Gateway event. Ctrl-C stops all of it.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from streamvault.config import configure, get_settings
from streamvault.db import migrate
from streamvault.db.engine import dispose_engines, get_engine
from streamvault.local.apigw import LocalContext, apigw_event, response_parts
from streamvault.local.postgres import start_embedded

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
REPO_ROOT = Path(__file__).resolve().parents[4]


def load_handler(dotted: str) -> Callable[[dict, Any], dict]:
    """``functions.api.app.lambda_handler`` → the function, importing from the repository root."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def make_server(host: str, port: int, handler: Callable[[dict, Any], dict]) -> ThreadingHTTPServer:
    class Bridge(BaseHTTPRequestHandler):
        server_version = "streamvault-local"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                self._reply(413, {"content-type": "application/json"},
                            json.dumps({"error": {"code": "payload_too_large", "message": "body over 6 MiB",
                                                  "details": None}}).encode())
                return
            body = self.rfile.read(length) if length else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            event = apigw_event(self.command, self.path, headers, body, source_ip=self.client_address[0])
            status, out_headers, data = response_parts(handler(event, LocalContext()))
            self._reply(status, out_headers, data)

        def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

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


def serve(port: int, host: str = "127.0.0.1", demo_creators: int = 50, demo_plays: int = 20_000) -> None:
    url = prepare_database(demo_creators, demo_plays)
    server = make_server(host, port, load_handler("functions.api.app.lambda_handler"))
    print(f"database: {url}", flush=True)
    print(f"StreamVault API listening on http://{host}:{server.server_port}  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        dispose_engines()
        print("stopped", flush=True)
