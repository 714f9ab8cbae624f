"""`streamvault dev` end to end: a real process, a real HTTP port, API keys made with the CLI, Ctrl-C stops it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _get(url: str, key: str | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers={"x-api-key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def _create_key(env: dict[str, str], database_url: str, scope: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "streamvault.cli", "keys", "create", "--scope", scope, "--name", "t", "--json",
         "--database-url", database_url],
        cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60,
    )
    return json.loads(done.stdout)["key"]


def test_dev_serves_the_api_on_demo_data_and_stops_on_ctrl_c(empty_db_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": empty_db_url, "STREAMVAULT_DATA_DIR": str(tmp_path),
           "STREAMVAULT_API_RATE_LIMIT_PER_S": "1", "STREAMVAULT_API_BURST": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamvault.cli", "dev", "--port", "0", "--creators", "5", "--plays", "300"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = None
        deadline = time.monotonic() + 120
        lines = []
        while base is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, f"dev server exited early: {''.join(lines)}"
            lines.append(line)
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            base = match and match.group(1)
        assert base, "".join(lines)
        assert any("seeded demo data: 5 creators" in line for line in lines)

        status, health, _ = _get(f"{base}/v1/health")  # open: no key needed
        assert status == 200 and health["database"]["ok"] is True
        assert set(health["queues"]) == {"ingest-buffer", "ingest-buffer-dlq"}  # moto's, with their depths
        assert health["queues"]["ingest-buffer-dlq"] == {"waiting": 0, "in_flight": 0, "delayed": 0}
        status, body, _ = _get(f"{base}/v1/creators/1")
        assert status == 401 and body["error"]["code"] == "unauthorized"  # no API key
        status, body, _ = _get(f"{base}/v1/creators/1", key="sv_nobody-was-given-this")
        assert status == 401 and body["error"]["code"] == "unauthorized"

        reader, ingester = _create_key(env, empty_db_url, "read"), _create_key(env, empty_db_url, "ingest")
        status, body, _ = _get(f"{base}/v1/creators/1", key=reader)
        assert status == 200 and body["id"] == 1 and "engagement" in body
        status, body, _ = _get(f"{base}/v1/creators/1", key=ingester)
        assert status == 403 and body["error"]["code"] == "forbidden"

        # a burst of 3 at 1 request/s: the reader has spent one token, two more pass, then 429s
        # (five requests leave slack for a slow machine refilling a token meanwhile)
        answers = [_get(f"{base}/v1/creators/1", key=reader) for _ in range(5)]
        statuses = [status for status, _, _ in answers]
        assert statuses[:2] == [200, 200] and 429 in statuses, statuses
        _, body, headers = answers[statuses.index(429)]
        assert body["error"]["code"] == "too_many_requests"
        assert int(headers["retry-after"]) >= 1

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
