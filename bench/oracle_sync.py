"""Oracle sync end to end on anvil: 10,000 creators, SQL → batched transactions → confirmed
receipts → sync state and logs; gas per creator in the batch path against one transaction per
creator, for first writes (a fresh storage slot) and for updates (a warm one).

    python bench/oracle_sync.py [--creators 10000] [--batch-size 250] [--singles 200]

Database: STREAMVAULT_TEST_DATABASE_URL or DATABASE_URL's server, else an embedded PostgreSQL.
Anvil: a fresh node (``--prune-history``, throwaway state). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from streamvault.chain.contracts import OnChainMetrics, deploy_oracle, oracle_contract, pack_metrics
from streamvault.chain.signers import LocalSigner
from streamvault.config import configure, get_settings
from streamvault.db.engine import get_engine
from streamvault.local.anvil import ANVIL_DEV_KEY, AnvilNode
from streamvault.services.oracle_sync import NextRunRetries, build_runtime, run_sync
from streamvault.wallets import encrypt_wallet
from support import bench_database, report
from web3 import HTTPProvider, Web3


def make_creators(n: int) -> None:
    """n verified creators with (encrypted) wallets and varied counters, written set-based."""
    wallets = [encrypt_wallet("0x" + f"{i:040x}") for i in range(1, n + 1)]
    with get_engine().begin() as conn:
        conn.execute(text("""
            INSERT INTO users (username) SELECT 'bench_' || g FROM generate_series(1, :n) g
        """), {"n": n})
        conn.execute(text("""
            INSERT INTO creators (user_id, name, verified, play_count, follower_count, like_count, comment_count,
                                  market_cap_attofil)
            SELECT u.id, 'Creator ' || u.id, true, (u.id * 7919) % 1000000, (u.id * 104729) % 50000,
                   (u.id * 31) % 9000, (u.id * 17) % 3000, (u.id % 50) * 10::numeric ^ 18
            FROM users u WHERE u.username LIKE 'bench_%'
        """))
        conn.execute(text("""
            UPDATE creators c SET wallet_ciphertext = w.ciphertext, wallet_blind_index = w.blind_index
            FROM unnest(CAST(:ids AS bigint[]), CAST(:ciphertexts AS bytea[]), CAST(:indexes AS bytea[]))
                 AS w(id, ciphertext, blind_index)
            WHERE c.id = w.id
        """), {"ids": list(range(1, n + 1)), "ciphertexts": [w.ciphertext for w in wallets],
               "indexes": [w.blind_index for w in wallets]})


def timed_sync(runtime) -> tuple[float, object]:
    started = time.perf_counter()
    result = run_sync(runtime, NextRunRetries(), trigger="bench")
    return time.perf_counter() - started, result


def single_tx_gas(w3: Web3, signer: LocalSigner, address: str, ids: range, epoch: int) -> float:
    """Mean gas of ``updateMetrics`` sent as one transaction per creator."""
    contract = oracle_contract(w3, address)
    nonce = w3.eth.get_transaction_count(signer.address, "pending")
    hashes = []
    for offset, creator_id in enumerate(ids):
        m = OnChainMetrics(epoch, 1000 + creator_id, 50, 1234, 3 * 10**18)
        pack_metrics(m)  # the same range checks as the batch path
        tx = contract.functions.updateMetrics(creator_id, (m.epoch, m.plays, m.followers, m.engagement_bps,
                                                           m.monthly_revenue_attofil)).build_transaction(
            {"from": signer.address, "nonce": nonce + offset, "gas": 200_000, "chainId": w3.eth.chain_id,
             "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9})
        hashes.append(w3.eth.send_raw_transaction(signer.sign(tx)))
    return sum(w3.eth.wait_for_transaction_receipt(h)["gasUsed"] for h in hashes) / len(hashes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--singles", type=int, default=200, help="creators sent one transaction each")
    args = parser.parse_args()

    with bench_database() as url, tempfile.TemporaryDirectory() as tmp:
        node = AnvilNode(state_dir=Path(tmp) / "anvil", extra_args=("--gas-limit", "100000000")).start()
        try:
            signer = LocalSigner(ANVIL_DEV_KEY)
            w3 = Web3(HTTPProvider(node.url))
            address = deploy_oracle(w3, signer, admin=signer.address, oracle=signer.address)
            configure(**{**get_settings().model_dump(), "database_url": url, "chain_rpc_url": node.url,
                         "oracle_contract_address": address, "oracle_signer_private_key": ANVIL_DEV_KEY,
                         "oracle_batch_size": args.batch_size, "oracle_receipt_wait_s": 120.0})
            make_creators(args.creators)
            runtime = build_runtime()

            first_s, first = timed_sync(runtime)
            with get_engine().begin() as conn:  # every creator's metrics move: the hourly steady state
                conn.execute(text("UPDATE creators SET play_count = play_count + 1, metrics_changed_at = now()"))
            warm_s, warm = timed_sync(runtime)
            with get_engine().connect() as conn:
                synced = conn.execute(text("SELECT count(*) FROM creator_sync_state WHERE epoch = :e"),
                                      {"e": warm.run_id}).scalar_one()
                logged = conn.execute(text("SELECT count(*) FROM oracle_sync_logs WHERE status = 'SUCCESS'")
                                      ).scalar_one()

            singles = range(10**9, 10**9 + args.singles)  # ids no batch touched
            single_first = single_tx_gas(w3, signer, address, singles, epoch=1)
            single_update = single_tx_gas(w3, signer, address, singles, epoch=2)
        finally:
            node.destroy()

    assert first.confirmed == first.transactions and warm.confirmed == warm.transactions
    assert synced == args.creators, (synced, args.creators)
    gas_per_update = warm.gas_used / warm.creators
    gas_per_first_write = first.gas_used / first.creators
    report({
        "creators": args.creators, "batch_size": args.batch_size, "transactions": warm.transactions,
        "seconds": round(warm_s, 2), "first_sync_seconds": round(first_s, 2),
        "creators_per_s": round(args.creators / warm_s), "success_logs": logged,
        "gas_per_update": round(gas_per_update), "gas_per_first_write": round(gas_per_first_write),
        "single_tx_gas_per_update": round(single_update), "single_tx_gas_per_first_write": round(single_first),
        "gas_ratio_vs_single": round(gas_per_update / single_update, 3),
        "first_write_ratio_vs_single": round(gas_per_first_write / single_first, 3),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    })


if __name__ == "__main__":
    main()
