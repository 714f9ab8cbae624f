"""Faults on a real anvil node: the RPC going down mid-sync, a stuck transaction, a nonce used
out of band, a revert, and a crash between broadcast and bookkeeping."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import text
from streamvault.chain.client import ChainError
from streamvault.chain.contracts import ORACLE_ROLE, oracle_contract
from streamvault.chain.txmanager import TxManager, TxStatus
from streamvault.db.repositories import chain as chain_repo
from streamvault.domain.chain_errors import classify_message
from streamvault.services.oracle_sync import process_retry, record_final, run_sync

from tests.integration.chain_fixtures import (  # noqa: F401 (fixtures)
    RecordingQueue,
    anvil_node,
    deployer_signer,
    oracle_address,
    oracle_runtime,
    web3_client,
)
from tests.integration.test_oracle_sync import make_creators, on_chain


def with_settings(rt, **update):
    return replace(rt, settings=rt.settings.model_copy(update=update))


def count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_rpc_down_mid_sync_queues_opens_breaker_and_converges(engine, anvil, runtime, monkeypatch):
    ids = make_creators(engine, 30)
    rt = with_settings(runtime, oracle_batch_size=10, oracle_receipt_wait_s=0.5, oracle_breaker_threshold=2,
                       oracle_breaker_cooldown_s=3)  # well above the pauses of a shared machine (~0.5 s at worst)
    sent = []
    real_send = rt.txm.send

    def send_then_lose_the_node(tx_id: int):
        outcome = real_send(tx_id)
        sent.append(tx_id)
        if len(sent) == 1:
            anvil.stop()  # the node goes away after the first batch is on chain
        return outcome

    monkeypatch.setattr(rt.txm, "send", send_then_lose_the_node)
    queue = RecordingQueue()
    first = run_sync(rt, queue)
    assert first.transactions == 3 and first.pending == 3
    assert [(attempt, delay) for _, attempt, delay in queue.scheduled] == [(1, 2)] * 3
    with engine.connect() as conn:
        errors = set(conn.execute(text("SELECT error_class FROM oracle_sync_logs WHERE status = 'RETRYING'")).scalars())
    assert errors == {"network"}

    run_sync(rt, queue)  # the second failed run opens the breaker
    assert run_sync(rt, queue).skipped == "breaker_open"
    with engine.connect() as conn:
        assert chain_repo.load_breaker(conn, "oracle_sync").state == "open"

    anvil.start()  # same chain: anvil dumped its state on the way down
    time.sleep(3.1)  # the cool-down: the next run is the probe
    for tx_id, attempt, _ in queue.scheduled[:3]:
        process_retry(rt, RecordingQueue(), {"transaction_id": tx_id, "attempt": attempt + 1})
    run_sync(rt, queue)
    assert count(engine, "SELECT count(*) FROM creator_sync_state") == 30
    assert count(engine, "SELECT count(*) FROM chain_transactions WHERE state = 'confirmed'") == 3
    assert all(on_chain(rt, creator_id)[1] == 100 + i for i, creator_id in enumerate(ids))
    with engine.connect() as conn:
        assert chain_repo.load_breaker(conn, "oracle_sync").state == "closed"


def manager(rt, **policy) -> TxManager:
    return TxManager(rt.engine, rt.client, rt.signer, replace(rt.txm.policy, **policy), on_final=record_final)


def test_a_mined_transaction_waits_for_its_depth_and_is_never_replaced_meanwhile(engine, anvil, runtime):
    make_creators(engine, 2)
    anvil.rpc("evm_setAutomine", False)
    report = run_sync(with_settings(runtime, oracle_receipt_wait_s=0.2), RecordingQueue())
    tx_id = runtime.txm.pending_ids()[0]
    assert report.pending == 1
    deep = manager(runtime, confirmations=3, stuck_after_s=0)  # would replace any attempt not yet mined
    anvil.rpc("evm_mine")  # mined, one block deep
    assert deep.poll(tx_id).status is TxStatus.PENDING
    anvil.rpc("evm_mine")
    assert deep.poll(tx_id).status is TxStatus.PENDING
    assert count(engine, "SELECT count(*) FROM chain_tx_attempts") == 1  # no replacement of a mined attempt
    anvil.rpc("evm_mine")
    assert deep.poll(tx_id).status is TxStatus.CONFIRMED  # three blocks deep


def test_a_late_receipt_is_waited_for_not_taken_for_someone_elses_nonce(engine, anvil, runtime, monkeypatch):
    make_creators(engine, 2)
    real_receipt = runtime.client.receipt
    monkeypatch.setattr(runtime.client, "receipt", lambda tx_hash: None)  # mined, but the node serves no receipt yet
    run_sync(with_settings(runtime, oracle_receipt_wait_s=0.2), RecordingQueue())
    tx_id = runtime.txm.pending_ids()[0]
    with engine.begin() as conn:  # long enough ago to be stuck: the next poll replaces it, on a nonce now used
        conn.execute(text("UPDATE chain_tx_attempts SET broadcast_at = now() - interval '2 hours'"))
    sent = runtime.client.nonce(runtime.signer.address, "latest")
    assert runtime.txm.poll(tx_id).status is TxStatus.PENDING
    assert runtime.client.nonce(runtime.signer.address, "latest") == sent  # not sent again on a fresh nonce
    monkeypatch.setattr(runtime.client, "receipt", real_receipt)  # the receipt shows up
    outcome = runtime.txm.poll(tx_id)
    with engine.connect() as conn:
        first = chain_repo.attempts_of(conn, tx_id)[0]
    assert (outcome.status, outcome.tx_hash) == (TxStatus.CONFIRMED, first.tx_hash)


def test_a_nonce_too_high_keeps_the_nonce(engine, runtime, monkeypatch):
    make_creators(engine, 2)
    monkeypatch.setattr(runtime.client, "send_raw", lambda raw: (_ for _ in ()).throw(
        ChainError(classify_message("nonce too high"), "nonce too high")))  # as the client raises it
    run_sync(with_settings(runtime, oracle_receipt_wait_s=0.2), RecordingQueue())
    with engine.connect() as conn:
        nonces = list(conn.execute(text("SELECT nonce FROM chain_transactions")).scalars())
    assert len(nonces) == 1 and nonces[0] is not None  # kept: releasing it would leave a gap for good


def test_stuck_transaction_is_replaced_with_bumped_fees_and_confirmed_once(engine, anvil, runtime):
    make_creators(engine, 5)
    rt = with_settings(runtime, oracle_receipt_wait_s=0.2)

    # Which poll finds the attempt stuck is set here, not by how long this machine pauses.
    patient, impatient = manager(rt, stuck_after_s=3600), manager(rt, stuck_after_s=0)
    rt = replace(rt, txm=patient)
    anvil.rpc("evm_setAutomine", False)  # mining paused: the transaction sits in the pool
    report = run_sync(rt, RecordingQueue())
    assert report.pending == 1
    tx_id = rt.txm.pending_ids()[0]
    replaced = impatient.poll(tx_id)
    assert replaced.status is TxStatus.PENDING
    with engine.connect() as conn:
        first, second = chain_repo.attempts_of(conn, tx_id)
    assert first.nonce == second.nonce
    assert second.max_priority_fee_per_gas >= first.max_priority_fee_per_gas * 1.2
    assert second.max_fee_per_gas >= first.max_fee_per_gas * 1.2

    anvil.rpc("evm_mine")
    outcome = rt.txm.poll(tx_id)
    assert outcome.status is TxStatus.CONFIRMED and outcome.tx_hash == second.tx_hash
    assert rt.client.receipt(first.tx_hash) is None  # the original was replaced, never mined
    assert count(engine, "SELECT count(*) FROM oracle_sync_logs WHERE status = 'SUCCESS'") == 1


def test_nonce_used_out_of_band_is_resynced(engine, w3, deployer, runtime, monkeypatch):
    make_creators(engine, 2)
    real_send_raw = runtime.client.send_raw
    stolen = []

    def someone_else_takes_the_nonce(raw: bytes) -> str:
        if not stolen:  # between our allocation and our broadcast, another sender uses the nonce
            tx = {"to": deployer.address, "value": 1, "gas": 21_000, "chainId": w3.eth.chain_id,
                  "nonce": w3.eth.get_transaction_count(deployer.address, "pending"),
                  "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
            w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(deployer.sign(tx)))
            stolen.append(tx["nonce"])
        return real_send_raw(raw)

    monkeypatch.setattr(runtime.client, "send_raw", someone_else_takes_the_nonce)
    report = run_sync(runtime, RecordingQueue())
    assert report.pending == 1  # too soon to call the nonce someone else's: a receipt of ours may be late
    tx_id = runtime.txm.pending_ids()[0]
    assert manager(runtime, stuck_after_s=0).poll(tx_id).status is TxStatus.PENDING  # resynced, sent again
    assert runtime.txm.poll(tx_id).status is TxStatus.CONFIRMED
    with engine.connect() as conn:
        tx_nonce = conn.execute(text("SELECT nonce FROM chain_transactions")).scalar_one()
        attempt_nonces = list(conn.execute(text("SELECT nonce FROM chain_tx_attempts ORDER BY id")).scalars())
    assert attempt_nonces == [stolen[0], tx_nonce] and tx_nonce == stolen[0] + 1
    assert count(engine, "SELECT count(*) FROM creator_sync_state") == 2


def test_revert_is_not_retried_and_its_reason_logged(engine, w3, deployer, runtime):
    make_creators(engine, 2)
    contract = oracle_contract(w3, runtime.contract_address)
    tx = contract.functions.revokeRole(ORACLE_ROLE, deployer.address).build_transaction(
        {"from": deployer.address, "nonce": w3.eth.get_transaction_count(deployer.address), "chainId": 31337})
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(deployer.sign(tx)))
    queue = RecordingQueue()
    report = run_sync(runtime, queue)
    assert (report.failed, report.pending, queue.scheduled) == (1, 0, [])
    with engine.connect() as conn:
        log = conn.execute(text("SELECT status, error_class, error_message FROM oracle_sync_logs")).one()
        breaker = chain_repo.load_breaker(conn, "oracle_sync")
    assert (log.status, log.error_class) == ("FAILED", "revert")
    assert "AccessControlUnauthorizedAccount" in log.error_message
    assert breaker.consecutive_failures == 0  # the contract's verdict, not an outage
    assert count(engine, "SELECT count(*) FROM creator_sync_state") == 0


def test_crash_after_broadcast_before_bookkeeping_is_reconciled_once(engine, runtime, monkeypatch):
    ids = make_creators(engine, 4)
    nonce_before = runtime.client.nonce(runtime.signer.address, "latest")

    def crash(conn, tx_hash):
        raise SystemExit("the Lambda died right after the broadcast")

    monkeypatch.setattr(chain_repo, "mark_broadcast", crash)
    with pytest.raises(SystemExit):
        run_sync(runtime, RecordingQueue())
    monkeypatch.undo()

    assert count(engine, "SELECT count(*) FROM chain_tx_attempts WHERE state = 'in_progress'") == 1
    report = run_sync(runtime, RecordingQueue())  # the next run reconciles first
    assert report.creators == 0  # the creators were in flight, then confirmed by reconciliation
    assert runtime.client.nonce(runtime.signer.address, "latest") == nonce_before + 1  # sent exactly once
    assert count(engine, "SELECT count(*) FROM chain_transactions WHERE state = 'confirmed'") == 1
    assert count(engine, "SELECT count(*) FROM oracle_sync_logs WHERE status = 'SUCCESS'") == 1
    assert on_chain(runtime, ids[2])[1] == 102


def test_mined_revert_fails_once_with_its_reason(engine, anvil, w3, deployer, db_url):
    """The role is revoked while our batch waits in the pool: it is mined and reverts."""
    from streamvault.chain.contracts import deploy_oracle
    from streamvault.chain.signers import LocalSigner
    from streamvault.services.oracle_sync import build_runtime

    from tests.integration.chain_fixtures import STRANGER_KEY, oracle_settings

    admin = LocalSigner(STRANGER_KEY)
    address = deploy_oracle(w3, deployer, admin=admin.address, oracle=deployer.address)
    oracle_settings(db_url, anvil, address, oracle_receipt_wait_s=0.2)
    rt = build_runtime()
    make_creators(engine, 2)
    anvil.rpc("evm_setAutomine", False)
    assert run_sync(rt, RecordingQueue()).pending == 1
    revoke = oracle_contract(w3, address).functions.revokeRole(ORACLE_ROLE, deployer.address).build_transaction(
        {"from": admin.address, "nonce": w3.eth.get_transaction_count(admin.address), "chainId": 31337,
         "maxPriorityFeePerGas": 50 * 10**9, "maxFeePerGas": 100 * 10**9})
    w3.eth.send_raw_transaction(admin.sign(revoke))  # a higher tip: mined first in the block
    anvil.rpc("evm_mine")
    (tx_id,) = rt.txm.pending_ids()
    outcome = rt.txm.poll(tx_id)
    assert outcome.status is TxStatus.FAILED and outcome.error_class == "revert"
    assert "AccessControlUnauthorizedAccount" in (outcome.error_message or "")
    assert rt.txm.poll(tx_id).status is TxStatus.FAILED  # final: polling again changes nothing
    assert count(engine, "SELECT count(*) FROM oracle_sync_logs WHERE status = 'FAILED'") == 1
    assert count(engine, "SELECT count(*) FROM creator_sync_state") == 0


def test_failures_outside_any_transaction_open_the_breaker_too(engine, runtime, monkeypatch):
    make_creators(engine, 2)
    rt = with_settings(runtime, oracle_breaker_threshold=2, oracle_breaker_cooldown_s=3600)

    def kms_unavailable(tx: dict) -> bytes:
        raise OSError("KMS endpoint unreachable")  # what a signer's boto call may raise

    monkeypatch.setattr(rt.signer, "sign", kms_unavailable)
    for _ in range(2):
        with pytest.raises(OSError):
            run_sync(rt, RecordingQueue())
    assert run_sync(rt, RecordingQueue()).skipped == "breaker_open"
    with engine.connect() as conn:
        assert chain_repo.load_breaker(conn, "oracle_sync").state == "open"
