"""`streamvault oracle test|sync|stats|logs` against PostgreSQL and anvil."""

from __future__ import annotations

import json

import pytest
from streamvault.cli import main
from streamvault.config import reset_settings
from streamvault.local.anvil import ANVIL_DEV_KEY

from tests.integration.chain_fixtures import (  # noqa: F401 (fixtures)
    anvil_node,
    deployer_signer,
    oracle_address,
    web3_client,
)
from tests.integration.test_oracle_sync import make_creators


@pytest.fixture
def oracle_env(engine, anvil, oracle, monkeypatch):
    for name, value in {"STREAMVAULT_CHAIN_RPC_URL": anvil.url, "STREAMVAULT_ORACLE_CONTRACT_ADDRESS": oracle,
                        "STREAMVAULT_ORACLE_SIGNER_PRIVATE_KEY": ANVIL_DEV_KEY}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield
    reset_settings()


def run(capsys, *argv: str) -> tuple[int, object]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_oracle_commands(oracle_env, engine, db_url, capsys):
    make_creators(engine, 4)
    code, result = run(capsys, "oracle", "test", "--json", "--database-url", db_url)
    assert code == 0 and {c["name"] for c in result["checks"]} == {"database", "rpc", "signer", "balance", "contract"}
    assert ANVIL_DEV_KEY[2:] not in json.dumps(result)

    code, report = run(capsys, "oracle", "sync", "--json", "--database-url", db_url)
    assert code == 0 and (report["creators"], report["confirmed"]) == (4, 1)

    code, stats = run(capsys, "oracle", "stats", "--hours", "24", "--json", "--database-url", db_url)
    assert code == 0 and (stats["succeeded"], stats["success_rate"]) == (1, 1.0)

    code, logs = run(capsys, "oracle", "logs", "--json", "--database-url", db_url)
    assert code == 0 and [(r["operation"], r["status"]) for r in logs] == [("UPDATE_METRICS", "SUCCESS")]


def test_oracle_test_says_why_not(oracle_env, db_url, monkeypatch, capsys):
    monkeypatch.setenv("STREAMVAULT_ORACLE_CONTRACT_ADDRESS", "0x" + "00" * 19 + "01")
    reset_settings()
    code, result = run(capsys, "oracle", "test", "--json", "--database-url", db_url)
    contract = next(c for c in result["checks"] if c["name"] == "contract")
    assert code == 1 and not contract["ok"] and "no contract code" in contract["detail"]
