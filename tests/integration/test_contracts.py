"""The oracle contract on a real anvil node: roles, batch updates, stale epochs, events, gas;
and the committed build matches a fresh compile of the sources."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from eth_utils import to_checksum_address
from streamvault.chain.contracts import (
    ORACLE_ROLE,
    OnChainMetrics,
    decode_records,
    encode_records,
    oracle_contract,
    pack_metrics,
    unpack_metrics,
)
from streamvault.chain.signers import LocalSigner
from streamvault.local.anvil import REPO_ROOT
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from tests.integration.chain_fixtures import (  # noqa: F401 (fixtures)
    STRANGER_KEY,
    anvil_node,
    deployer_signer,
    oracle_address,
    web3_client,
)

FIL = 10**18


def metrics(epoch: int, plays: int = 1000, followers: int = 50, bps: int = 4321, revenue: int = 3 * FIL):
    return OnChainMetrics(epoch, plays, followers, bps, revenue)


def transact(w3: Web3, signer: LocalSigner, call) -> dict:
    tx = call.build_transaction({"from": signer.address, "nonce": w3.eth.get_transaction_count(signer.address),
                                 "chainId": w3.eth.chain_id})
    return w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signer.sign(tx)))


def test_build_matches_sources():
    node = shutil.which("node")
    assert node, "node is required to compile the contracts"
    result = subprocess.run([node, "contracts/compile.js", "--check"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_pack_round_trips_and_refuses_overflow():
    m = metrics(7, plays=2**64 - 1, followers=2**32 - 1, bps=10_000, revenue=2**112 - 1)
    assert unpack_metrics(pack_metrics(m)) == m
    with pytest.raises(ValueError, match="plays"):
        pack_metrics(metrics(1, plays=2**64))
    with pytest.raises(ValueError, match="bps"):
        pack_metrics(metrics(1, bps=10_001))


def test_roles(w3, deployer, oracle):
    contract = oracle_contract(w3, oracle)
    stranger = LocalSigner(STRANGER_KEY)
    assert contract.functions.hasRole(ORACLE_ROLE, deployer.address).call()
    assert not contract.functions.hasRole(ORACLE_ROLE, stranger.address).call()
    with pytest.raises(ContractCustomError):
        contract.functions.updateMetricsBatch(encode_records([(1, metrics(1))])).call({"from": stranger.address})

    transact(w3, deployer, contract.functions.grantRole(ORACLE_ROLE, stranger.address))
    receipt = transact(w3, stranger, contract.functions.updateMetricsBatch(encode_records([(1, metrics(1))])))
    assert receipt["status"] == 1
    transact(w3, deployer, contract.functions.revokeRole(ORACLE_ROLE, stranger.address))
    with pytest.raises(ContractCustomError):
        contract.functions.updateMetricsBatch(encode_records([(1, metrics(2))])).call({"from": stranger.address})


def test_batch_update_reads_and_events(w3, deployer, oracle):
    contract = oracle_contract(w3, oracle)
    updates = [(creator_id, metrics(1, plays=creator_id * 10)) for creator_id in (1, 2, 3)]
    receipt = transact(w3, deployer, contract.functions.updateMetricsBatch(encode_records(updates)))
    (event,) = contract.events.MetricsUpdated().process_receipt(receipt, errors=DISCARD)
    assert decode_records(event.args.records) == updates

    one = contract.functions.metricsOf(2).call()
    assert tuple(one) == (1, 20, 50, 4321, 3 * FIL)
    many = contract.functions.metricsOfMany([3, 1, 99]).call()
    assert [m[1] for m in many] == [30, 10, 0]
    assert contract.functions.epochOf(3).call() == 1


def test_stale_and_replayed_epochs_are_ignored(w3, deployer, oracle):
    contract = oracle_contract(w3, oracle)
    transact(w3, deployer, contract.functions.updateMetricsBatch(encode_records([(5, metrics(3, plays=300))])))

    # a replay of epoch 3 and an older epoch 2 change nothing and say so; epoch 4 applies
    records = encode_records([(5, metrics(3, plays=999)), (5, metrics(2, plays=1)), (6, metrics(4, plays=40))])
    receipt = transact(w3, deployer, contract.functions.updateMetricsBatch(records))
    ignored = contract.events.StaleUpdateIgnored().process_receipt(receipt, errors=DISCARD)
    assert [(e.args.creatorId, e.args.epoch, e.args.currentEpoch) for e in ignored] == [(5, 3, 3), (5, 2, 3)]
    (applied,) = contract.events.MetricsUpdated().process_receipt(receipt, errors=DISCARD)
    assert decode_records(applied.args.records) == [(6, metrics(4, plays=40))]
    assert contract.functions.metricsOf(5).call()[1] == 300


def test_malformed_records_revert(w3, deployer, oracle):
    contract = oracle_contract(w3, oracle)
    with pytest.raises(ContractCustomError):
        contract.functions.updateMetricsBatch(b"\x00" * 41).call({"from": deployer.address})


def test_cast_reads_the_contract(anvil, w3, deployer, oracle):
    """An outside client (foundry's cast, from npm) sees the same state."""
    contract = oracle_contract(w3, oracle)
    transact(w3, deployer, contract.functions.updateMetricsBatch(encode_records([(9, metrics(1, plays=12345))])))
    out = subprocess.run([str(REPO_ROOT / "node_modules/.bin/cast"), "call", to_checksum_address(oracle),
                          "epochOf(uint256)(uint32)", "9", "--rpc-url", anvil.url],
                         capture_output=True, text=True, check=True, env={"HOME": str(anvil.state_dir)})
    assert out.stdout.strip() == "1"


def test_warm_batch_update_gas_per_creator(w3, deployer, oracle):
    contract = oracle_contract(w3, oracle)
    n = 200
    first = [(i, metrics(1, plays=10_000 + i)) for i in range(1, n + 1)]
    cold = transact(w3, deployer, contract.functions.updateMetricsBatch(encode_records(first)))
    warm_updates = [(i, metrics(2, plays=20_000 + i)) for i in range(1, n + 1)]
    warm = transact(w3, deployer, contract.functions.updateMetricsBatch(encode_records(warm_updates)))
    per_update = warm["gasUsed"] / n
    assert per_update <= 6_500, per_update
    assert cold["gasUsed"] / n < 25_000
