"""`streamvault dev` accepts events at POST /v1/events (ingest function, moto's SQS running beside it)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from streamvault.db.engine import psycopg_url

from tests.integration.test_devserver import _create_key

REPO = Path(__file__).resolve().parents[2]


def _call(url: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"x-api-key": key, "content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _wait_for_base(process: subprocess.Popen) -> tuple[str, list[str]]:
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line, f"dev server exited early: {''.join(lines)}"
        lines.append(line)
        if match := re.search(r"listening on (http://127\.0\.0\.1:\d+)", line):
            return match.group(1), lines
    raise AssertionError("".join(lines))


def test_dev_ingests_events_and_runs_the_buffer_queue(empty_db_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": empty_db_url, "STREAMVAULT_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamvault.cli", "dev", "--port", "0", "--creators", "3", "--plays", "100"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base, lines = _wait_for_base(process)
        assert any(re.search(r"ingest buffer: http://127\.0\.0\.1:\d+/\S+streamvault-ingest-buffer", line)
                   for line in lines), lines
        ingester, reader = _create_key(env, empty_db_url, "ingest"), _create_key(env, empty_db_url, "read")
        plays = [{"event_id": str(uuid.uuid4()), "type": "play", "track_id": 1, "duration_ms": 1000,
                  "played_at": datetime.now(UTC).isoformat()} for _ in range(3)]

        status, body = _call(f"{base}/v1/events", ingester, {"events": plays})
        assert (status, body["stored"]) == (200, 3), body
        status, body = _call(f"{base}/v1/events", reader, {"events": plays})
        assert (status, body["error"]["code"]) == (403, "forbidden")
        engine = create_engine(psycopg_url(empty_db_url))
        try:
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM plays WHERE event_id = ANY(CAST(:ids AS uuid[]))"),
                                      {"ids": [p["event_id"] for p in plays]}).scalar_one()
        finally:
            engine.dispose()
        assert stored == 3

        # a process manager stops it with SIGTERM: it stops its anvil node too
        node = re.compile(r"oracle: \S+ on http://127\.0\.0\.1:(\d+)")
        (anvil,) = [int(m.group(1)) for line in lines if (m := node.search(line))]
        socket.create_connection(("127.0.0.1", anvil), timeout=5).close()  # up while the server runs
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "stopped" in process.stdout.read()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", anvil), timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
