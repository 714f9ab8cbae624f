"""Shared chain fixtures: a real anvil node per test (free port, pruned history, throwaway state
directory, stopped afterwards) and the oracle contract deployed on it.

Import the fixtures a test module needs (``from tests.integration.chain_fixtures import anvil_node``); each
is registered under its short name (``anvil``, ``deployer``, ``w3``, ``oracle``, ``runtime``), which the
tests take as arguments.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamvault.chain.contracts import deploy_oracle
from streamvault.chain.signers import LocalSigner
from streamvault.local.anvil import ANVIL_DEV_KEY, AnvilNode
from web3 import HTTPProvider, Web3

# NOT SECRETS: anvil's public test accounts 1 and 2 (mnemonic "test test … junk").
STRANGER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
SECOND_ORACLE_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


@pytest.fixture(name="anvil")
def anvil_node(tmp_path) -> Iterator[AnvilNode]:
    node = AnvilNode(state_dir=tmp_path / "anvil").start()
    yield node
    node.destroy()


@pytest.fixture(name="deployer")
def deployer_signer() -> LocalSigner:
    return LocalSigner(ANVIL_DEV_KEY)


@pytest.fixture(name="w3")
def web3_client(anvil: AnvilNode) -> Web3:
    return Web3(HTTPProvider(anvil.url))


@pytest.fixture(name="oracle")
def oracle_address(w3: Web3, deployer: LocalSigner) -> str:
    """The oracle contract's address; the deployer is both admin and oracle."""
    return deploy_oracle(w3, deployer, admin=deployer.address, oracle=deployer.address)


class RecordingQueue:
    """The retry queue as a list: (transaction id, attempt, delay) per message, and dead letters."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[int, int, int]] = []
        self.dead: list[tuple[int, int, str]] = []

    def schedule(self, tx_id: int, attempt: int, delay_s: int) -> None:
        self.scheduled.append((tx_id, attempt, delay_s))

    def dead_letter(self, tx_id: int, attempt: int, reason: str) -> None:
        self.dead.append((tx_id, attempt, reason))


def oracle_settings(db_url: str, node: AnvilNode, contract: str, **overrides: object) -> None:
    """Point the application's settings at this test's database, node and contract."""
    from streamvault.config import configure

    configure(database_url=db_url, read_database_url=None, chain_rpc_url=node.url, chain_id=node.chain_id,
              oracle_contract_address=contract, oracle_signer_private_key=ANVIL_DEV_KEY,
              **{"oracle_receipt_wait_s": 5.0, **overrides})


@pytest.fixture(name="runtime")
def oracle_runtime(engine, db_url, anvil, oracle):
    """The oracle sync's runtime (real PostgreSQL, anvil, the deployed contract, a local signer)."""
    from streamvault.services.oracle_sync import build_runtime

    oracle_settings(db_url, anvil, oracle)
    return build_runtime()
