"""`streamvault dev` end to end: a real process, a real HTTP port, Ctrl-C stops it."""

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


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_dev_serves_the_api_on_demo_data_and_stops_on_ctrl_c(empty_db_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": empty_db_url, "STREAMVAULT_DATA_DIR": str(tmp_path)}
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

        status, health = _get(f"{base}/v1/health")
        assert status == 200 and health["database"]["ok"] is True
        status, body = _get(f"{base}/v1/creators/1")
        assert status == 401 and body["error"]["code"] == "unauthorized"  # no API key

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
