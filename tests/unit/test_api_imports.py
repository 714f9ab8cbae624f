"""The api function's cold start matters: importing its handler must not pull in web3, nor the
ORM with the declarative models (~150 ms: the api's SQL is text in the repositories)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("web3", "eth_account", "sqlalchemy.orm", "streamvault.db.models")


def test_api_handler_imports_neither_web3_nor_the_orm():
    code = (f"import sys, functions.api.app; "
            f"print(sorted(m for m in sys.modules if m in {HEAVY!r} or m.split('.')[0] in {HEAVY!r}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
