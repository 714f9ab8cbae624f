"""The local stack's oracle (``make run``): anvil, the contracts deployed at start, and the sync
running on a short interval in a background thread, each run followed by milestone detection
and its on-chain actions (``services.milestones``). Kept apart from the HTTP bridge so that
``devserver`` only starts and stops it.

The demo: the metrics oracle, the creator coin factory and the revenue distributor are deployed
(or found again in the chain state an earlier run left); the signer holds every role. One
verified demo creator without a coin is picked (the most played), and the coin and revenue
thresholds are set, in the settings and in the factory, a little above its current figures
(the real ones, 50,000 plays and 100 FIL a month, are out of reach of the demo data). Each cycle
then tops that creator up through the real ingest write path (plays, a follow, a tip) before the
sync, so within a few cycles it crosses them: its milestones are recorded, its coin is created
and revenue sharing is enabled, all printed as they happen.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address
from web3 import HTTPProvider, Web3

from streamvault.chain.coins import deploy_coin_contracts, factory_contract
from streamvault.chain.contracts import deploy_oracle
from streamvault.chain.signers import LocalSigner
from streamvault.config import configure, get_settings
from streamvault.local.anvil import ANVIL_BIN, ANVIL_DEV_KEY, AnvilNode

if TYPE_CHECKING:
    from streamvault.services.milestones import MilestoneRuntime
    from streamvault.services.oracle_sync import OracleRuntime

FIL = 10**18
# The demo creator's thresholds sit this far above its figures at start; each cycle adds less
# than the gap, so the crossing happens while the stack runs (on the second cycle), not at start.
DEMO_PLAYS_GAP, DEMO_PLAYS_PER_CYCLE = 10, 6
DEMO_FOLLOWERS_GAP = 2  # one follow per cycle
DEMO_REVENUE_GAP, DEMO_TIP_ATTOFIL = FIL, 6 * FIL // 10
DEMO_TOP_UP_CYCLES = 5  # then it stops, whatever happened


@dataclass
class LocalOracle:
    node: AnvilNode
    contract: str
    stop_event: threading.Event
    thread: threading.Thread

    milestones: LocalMilestones | None = None

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)
        self.node.stop()  # dumps the chain into the data dir: the next `make run` continues it


def _deployed(w3: Web3, signer: LocalSigner, address_file) -> str:
    """The contract from an earlier run if the chain still has it, else a fresh deployment."""
    if address_file.exists():
        address = address_file.read_text().strip()
        if w3.eth.get_code(Web3.to_checksum_address(address)):
            return address
    address = deploy_oracle(w3, signer, admin=signer.address, oracle=signer.address)
    address_file.write_text(address)
    return address


def _give_demo_wallets() -> int:
    """Demo data has no wallets, and the oracle syncs only verified creators with one: give the
    local demo's verified creators a deterministic (made-up) address, encrypted like real ones."""
    from sqlalchemy import text

    from streamvault.db.engine import transaction
    from streamvault.wallets import encrypt_wallet

    with transaction() as conn:
        ids = list(conn.execute(text(
            "SELECT id FROM creators WHERE verified AND wallet_ciphertext IS NULL AND deleted_at IS NULL")).scalars())
        for creator_id in ids:
            sealed = encrypt_wallet(f"0x{creator_id:040x}")
            conn.execute(text("UPDATE creators SET wallet_ciphertext = :c, wallet_blind_index = :b WHERE id = :id"),
                         {"c": sealed.ciphertext, "b": sealed.blind_index, "id": creator_id})
    return len(ids)


@dataclass
class DemoCreator:
    """The creator the demo tops up until it has its coin and revenue sharing."""

    creator_id: int
    track_id: int
    followers_to_add: list[int]  # users not following it yet
    cycles_left: int = DEMO_TOP_UP_CYCLES


@dataclass
class LocalMilestones:
    factory: str
    distributor: str
    demo: DemoCreator | None = None
    thresholds: dict[str, int] = field(default_factory=dict)


def _send(w3: Web3, signer: LocalSigner, call: Any) -> None:
    """A one-off admin transaction (like the deployments: not an oracle operation)."""
    tx = call.build_transaction({"from": signer.address, "chainId": w3.eth.chain_id,
                                 "nonce": w3.eth.get_transaction_count(signer.address, "pending")})
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signer.sign(tx)), timeout=30)
    if receipt["status"] != 1:
        raise RuntimeError("admin transaction reverted")


def _coin_contracts(w3: Web3, signer: LocalSigner, oracle: str, address_file: Path) -> tuple[str, str]:
    """(factory, distributor) from an earlier run if the chain still has them for this oracle,
    else freshly deployed; the signer is admin and oracle of both (``deploy_coin_contracts``)."""
    if address_file.exists():
        factory, distributor = address_file.read_text().split()
        if (w3.eth.get_code(to_checksum_address(factory)) and w3.eth.get_code(to_checksum_address(distributor))
                and factory_contract(w3, factory).functions.metricsOracle().call() == to_checksum_address(oracle)):
            return factory, distributor
    settings = get_settings()
    factory, distributor = deploy_coin_contracts(w3, signer, metrics_oracle=oracle, treasury=signer.address,
                                                 min_plays=settings.coin_min_plays,
                                                 min_followers=settings.coin_min_followers)
    address_file.write_text(f"{factory} {distributor}\n")
    return factory, distributor


def _pick_demo_creator() -> tuple[DemoCreator, dict[str, int]] | None:
    """The most played verified creator with a wallet, a live track and no coin; the thresholds
    just above its current figures."""
    from sqlalchemy import text

    from streamvault.db.engine import transaction
    from streamvault.db.repositories.creators import metrics_of_many

    with transaction() as conn:
        ids = list(conn.execute(text("""
            SELECT c.id FROM creators c
            WHERE c.verified AND c.wallet_ciphertext IS NOT NULL AND c.coin_address IS NULL AND c.deleted_at IS NULL
              AND EXISTS (SELECT 1 FROM tracks t WHERE t.creator_id = c.id AND t.deleted_at IS NULL)
        """)).scalars())
        if not ids:
            return None
        top = max(metrics_of_many(conn, datetime.now(UTC), ids), key=lambda m: (m.plays, -m.creator_id))
        track_id = conn.execute(text("""SELECT id FROM tracks WHERE creator_id = :c AND deleted_at IS NULL
                                        ORDER BY id LIMIT 1"""), {"c": top.creator_id}).scalar_one()
        users = list(conn.execute(text("""
            SELECT u.id FROM users u
            WHERE u.deleted_at IS NULL AND u.id <> (SELECT user_id FROM creators WHERE id = :c)
              AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.user_id = u.id AND f.creator_id = :c)
            ORDER BY u.id LIMIT :n
        """), {"c": top.creator_id, "n": DEMO_TOP_UP_CYCLES}).scalars())
    thresholds = {"coin_min_plays": top.plays + DEMO_PLAYS_GAP,
                  "coin_min_followers": top.followers + DEMO_FOLLOWERS_GAP,
                  "revenue_share_min_monthly_attofil": top.monthly_revenue_attofil + DEMO_REVENUE_GAP}
    print(f"milestones demo: creator {top.creator_id} has {top.plays:,} plays, {top.followers:,} followers, "
          f"{_fil(top.monthly_revenue_attofil)} FIL revenue this month; demo thresholds: coin at "
          f"{thresholds['coin_min_plays']:,} plays and {thresholds['coin_min_followers']:,} followers, revenue "
          f"sharing at {_fil(thresholds['revenue_share_min_monthly_attofil'])} FIL a month", flush=True)
    return DemoCreator(top.creator_id, track_id, users), thresholds


def start_local_milestones(w3: Web3, signer: LocalSigner, oracle: str, state_dir: Path) -> LocalMilestones:
    """The coin factory and revenue distributor next to the oracle, the demo creator and its
    thresholds (in the settings and on the factory), the settings pointed at both contracts."""
    factory, distributor = _coin_contracts(w3, signer, oracle, state_dir / "coin-addresses")
    picked = _pick_demo_creator()
    demo, thresholds = picked if picked else (None, {})
    if picked is None:
        print("milestones demo: every verified demo creator already has a coin (delete the data dir to start "
              "over): detection still runs after each sync", flush=True)
    else:
        _send(w3, signer, factory_contract(w3, factory).functions.setThresholds(
            thresholds["coin_min_plays"], thresholds["coin_min_followers"]))
    configure(**{**get_settings().model_dump(), **thresholds, "coin_factory_address": factory,
                 "revenue_distributor_address": distributor})
    return LocalMilestones(factory, distributor, demo, thresholds)


def _fil(attofil: int) -> str:
    return f"{attofil / FIL:,.2f}"


def _top_up(demo: DemoCreator) -> None:
    """Plays, a follow and a tip for the demo creator, through ingestion's own write path."""
    from streamvault.services.ingest import receive

    at = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    events: list[dict[str, Any]] = [
        {"event_id": str(uuid.uuid4()), "type": "play", "track_id": demo.track_id, "duration_ms": 120_000,
         "played_at": at} for _ in range(DEMO_PLAYS_PER_CYCLE)]
    if demo.followers_to_add:
        events.append({"event_id": str(uuid.uuid4()), "type": "follow", "user_id": demo.followers_to_add.pop(0),
                       "creator_id": demo.creator_id, "occurred_at": at})
    events.append({"event_id": str(uuid.uuid4()), "type": "tip", "creator_id": demo.creator_id,
                   "amount_attofil": str(DEMO_TIP_ATTOFIL), "occurred_at": at})
    receipt = receive(json.dumps({"events": events}), "application/json")
    demo.cycles_left -= 1
    print(f"milestones demo: ingested for creator {demo.creator_id}: {receipt.stored} events "
          f"(+{DEMO_PLAYS_PER_CYCLE} plays, a follow, a {_fil(DEMO_TIP_ATTOFIL)} FIL tip)", flush=True)


def _demo_done(demo: DemoCreator) -> bool:
    from sqlalchemy import text

    from streamvault.db.engine import transaction

    with transaction() as conn:
        return bool(conn.execute(text("SELECT revenue_sharing_enabled FROM creators WHERE id = :c"),
                                 {"c": demo.creator_id}).scalar_one())


def _milestone_state() -> tuple[int, dict[int, tuple[str, bool]]]:
    """The last milestone id; each creator with a coin: (coin, sharing enabled)."""
    from sqlalchemy import text

    from streamvault.db.engine import transaction

    with transaction() as conn:
        last = conn.execute(text("SELECT coalesce(max(id), 0) FROM creator_milestones")).scalar_one()
        coins = {r.id: (r.coin_address, r.revenue_sharing_enabled) for r in conn.execute(text(
            "SELECT id, coin_address, revenue_sharing_enabled FROM creators WHERE coin_address IS NOT NULL"))}
    return last, coins


def _print_changes(before: tuple[int, dict[int, tuple[str, bool]]]) -> None:
    from sqlalchemy import text

    from streamvault.db.engine import transaction

    last, coins_before = before
    with transaction() as conn:
        rows = conn.execute(text("""SELECT creator_id, milestone_type, threshold FROM creator_milestones
                                    WHERE id > :last ORDER BY creator_id, id"""), {"last": last}).all()
    reached: dict[int, list[str]] = {}
    for r in rows:
        amount = f"{_fil(int(r.threshold))} FIL/month" if r.milestone_type == "REVENUE" else f"{int(r.threshold):,}"
        reached.setdefault(r.creator_id, []).append(f"{r.milestone_type} {amount}")
    _, coins_after = _milestone_state()
    for creator_id in sorted(set(reached) | set(coins_after)):
        news = []
        if creator_id in reached:
            news.append("reached " + ", ".join(reached[creator_id]))
        coin, sharing = coins_after.get(creator_id, (None, False))
        if coin and creator_id not in coins_before:
            news.append(f"coin {coin} created")
        if sharing and not coins_before.get(creator_id, (None, False))[1]:
            news.append("revenue sharing enabled")
        if news:
            print(f"milestones: creator {creator_id} " + "; ".join(news), flush=True)


def local_cycle(runtime: OracleRuntime, milestones: MilestoneRuntime | None, demo: DemoCreator | None) -> None:
    """One local round: the demo top-up, the oracle sync, then detection and actions for the
    creators the sync confirmed (what the "sync done" event triggers in AWS)."""
    from streamvault.services.milestones import after_sync
    from streamvault.services.oracle_sync import NextRunRetries, run_sync

    if demo is not None and demo.cycles_left > 0 and not _demo_done(demo):
        _top_up(demo)
    report = run_sync(runtime, NextRunRetries(), trigger="local")
    print(f"oracle sync: {report.creators} creators, {report.confirmed} confirmed "
          f"({report.skipped or 'ok'})", flush=True)
    if milestones is not None and report.run_id is not None:
        before = _milestone_state()
        _, actions = after_sync(milestones, report.run_id)
        _print_changes(before)
        if actions.failed or actions.pending:
            print(f"milestones: {actions.failed} actions failed, {actions.pending} pending", flush=True)


def _sync_forever(stop: threading.Event, interval_s: int, local: LocalMilestones | None) -> None:
    from streamvault.services.milestones import build_milestone_runtime
    from streamvault.services.oracle_sync import build_runtime

    runtime = build_runtime()
    milestones = None if local is None else build_milestone_runtime(runtime)
    while not stop.wait(interval_s):
        try:
            local_cycle(runtime, milestones, None if local is None else local.demo)
        except Exception as exc:  # keep the local stack up; the next interval tries again
            print(f"oracle sync failed: {type(exc).__name__}: {exc}", flush=True)


def start_local_oracle() -> LocalOracle | None:
    """None (with a note) when anvil is not installed: the API still runs without the oracle."""
    settings = get_settings()
    if not ANVIL_BIN.exists():
        print("oracle: node_modules/.bin/anvil missing (run `make install`): local oracle disabled", flush=True)
        return None
    state_dir = (settings.data_dir / "anvil").resolve()
    node = AnvilNode(state_dir=state_dir, chain_id=settings.chain_id).start()
    signer = LocalSigner(ANVIL_DEV_KEY)
    w3 = Web3(HTTPProvider(node.url))
    contract = _deployed(w3, signer, state_dir / "oracle-address")
    configure(**{**settings.model_dump(), "chain_rpc_url": node.url, "oracle_contract_address": contract,
                 "oracle_signer": "local", "oracle_signer_private_key": ANVIL_DEV_KEY})
    if given := _give_demo_wallets():
        print(f"oracle: gave {given} verified demo creators a made-up wallet so that they sync", flush=True)
    milestones = start_local_milestones(w3, signer, contract, state_dir)
    print(f"milestones: coin factory {milestones.factory}, revenue distributor {milestones.distributor}",
          flush=True)
    stop = threading.Event()
    thread = threading.Thread(target=_sync_forever, args=(stop, settings.oracle_local_sync_interval_s, milestones),
                              name="oracle-sync", daemon=True)
    thread.start()
    return LocalOracle(node, contract, stop, thread, milestones)
