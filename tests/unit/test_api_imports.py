"""The api function's cold start matters: importing its handler must not pull in web3."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_api_handler_does_not_import_web3():
    code = ("import sys, functions.api.app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'web3', 'eth_account'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
