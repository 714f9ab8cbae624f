"""The oracle sync end to end on PostgreSQL + anvil: selection, batches, receipts, sync state,
the operation log, nonces under concurrency, and the retry consumer."""

from __future__ import annotations

import threading
from dataclasses import replace

from sqlalchemy import text
from streamvault.chain.contracts import oracle_contract
from streamvault.chain.txmanager import TxManager, TxStatus
from streamvault.db.engine import transaction
from streamvault.db.repositories.oracle_logs import sync_stats
from streamvault.services.oracle_sync import process_retry, run_sync

from tests.integration.chain_fixtures import (  # noqa: F401 (fixtures)
    RecordingQueue,
    anvil_node,
    deployer_signer,
    oracle_address,
    oracle_runtime,
    web3_client,
)
from tests.integration.factories import make_creator


def make_creators(engine, n: int, **kwargs) -> list[int]:
    with engine.begin() as conn:
        return [make_creator(conn, plays=100 + i, followers=i, verified=True, wallet=True, **kwargs)
                for i in range(n)]


def on_chain(runtime, creator_id: int) -> tuple:
    return tuple(oracle_contract(runtime.client.w3, runtime.contract_address).functions.metricsOf(creator_id).call())


def test_sync_confirms_batches_and_records_state(engine, runtime):
    ids = make_creators(engine, 25)
    with engine.begin() as conn:
        make_creator(conn, plays=5, verified=False, wallet=True)  # not eligible: unverified
    queue = RecordingQueue()
    report = run_sync(runtime, queue)
    assert (report.creators, report.confirmed, report.failed, report.pending) == (25, report.transactions, 0, 0)
    assert report.transactions == 1 and queue.scheduled == []

    epoch, plays, followers, _, _ = on_chain(runtime, ids[3])
    assert (epoch, plays, followers) == (report.run_id, 103, 3)
    with engine.connect() as conn:
        synced = conn.execute(text("SELECT count(*) FROM creator_sync_state WHERE epoch = :e"),
                              {"e": report.run_id}).scalar_one()
        log = conn.execute(text("SELECT * FROM oracle_sync_logs")).mappings().one()
        stats = sync_stats(conn, hours=1)
    assert synced == 25
    assert (log["operation"], log["status"], log["creator_count"]) == ("UPDATE_METRICS", "SUCCESS", 25)
    assert log["gas_used"] > 0 and log["block_number"] > 0 and log["tx_hash"].startswith("0x")
    assert stats.success_rate == 1.0

    assert run_sync(runtime, queue).creators == 0  # nothing changed since
    with engine.begin() as conn:
        conn.execute(text("UPDATE creators SET play_count = play_count + 7, metrics_changed_at = now() WHERE id = :id"),
                     {"id": ids[0]})
    second = run_sync(runtime, queue)
    assert (second.creators, second.confirmed) == (1, 1)
    assert on_chain(runtime, ids[0])[:2] == (second.run_id, 107)


def test_batches_split_by_size(engine, runtime):
    make_creators(engine, 23)
    rt = replace(runtime, settings=runtime.settings.model_copy(update={"oracle_batch_size": 10}))
    report = run_sync(rt, RecordingQueue())
    assert (report.creators, report.transactions, report.confirmed) == (23, 3, 3)


def test_concurrent_senders_never_share_or_skip_a_nonce(engine, runtime):
    keys = [f"concurrency:{i}" for i in range(12)]
    data = bytes.fromhex(oracle_contract(runtime.client.w3, runtime.contract_address)
                         .encode_abi("updateMetricsBatch", [b""])[2:])
    with transaction() as conn:
        tx_ids = [runtime.txm.enqueue(conn, key, "UPDATE_METRICS", runtime.contract_address, data)[0] for key in keys]

    def worker(ids: list[int]) -> None:
        manager = TxManager(engine, runtime.client, runtime.signer, runtime.txm.policy)
        for tx_id in ids:
            manager.send(tx_id)

    threads = [threading.Thread(target=worker, args=(tx_ids[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = runtime.txm.wait(tx_ids, 10, 0.05)
    assert {o.status for o in outcomes.values()} == {TxStatus.CONFIRMED}
    with engine.connect() as conn:
        nonces = sorted(conn.execute(text("SELECT nonce FROM chain_transactions")).scalars())
    assert nonces == list(range(nonces[0], nonces[0] + len(keys)))  # no gap, no reuse
    assert runtime.client.nonce(runtime.signer.address, "latest") == nonces[-1] + 1


def test_redelivered_retry_message_never_sends_twice(engine, runtime):
    make_creators(engine, 3)
    report = run_sync(runtime, RecordingQueue())
    with engine.connect() as conn:
        tx_id = conn.execute(text("SELECT id FROM chain_transactions")).scalar_one()
    chain_nonce = runtime.client.nonce(runtime.signer.address, "latest")
    queue = RecordingQueue()
    for _ in range(3):  # the same message, delivered three times
        outcome = process_retry(runtime, queue, {"transaction_id": tx_id, "attempt": 2})
        assert outcome is not None and outcome.status is TxStatus.CONFIRMED
    assert runtime.client.nonce(runtime.signer.address, "latest") == chain_nonce
    assert queue.scheduled == [] and report.confirmed == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM oracle_sync_logs")).scalar_one() == 1
