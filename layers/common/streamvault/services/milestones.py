"""Milestones, creator coins and quarterly revenue sharing (``functions/milestones``).

Detection (after each oracle sync, for the creators that run confirmed; daily, for everyone):
live metrics → ``domain.milestones`` rules → ``creator_milestones``, each once (the unique key
arbitrates between concurrent detections). Actions, then: a coin for creators whose metrics *as
confirmed on chain* meet the coin thresholds (the factory checks the oracle's copy again), and
revenue sharing for coin holders of creators past the monthly revenue milestone. Quarterly: the
holders' share of each sharing creator's quarter revenue, deposited once into the distributor.
Every on-chain action goes through the oracle's transaction manager; what its outcome makes true
is in ``services.milestone_actions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from streamvault.chain.coins import create_coin_call, deposit_call, enable_sharing_call
from streamvault.chain.txmanager import TxOutcome, TxStatus
from streamvault.db.engine import transaction
from streamvault.db.repositories import coins, revenue
from streamvault.db.repositories.creators import metrics_of_many
from streamvault.db.repositories.milestones import record_many
from streamvault.domain.milestones import CreatorFigures, MilestoneRules, Quarter, holders_share
from streamvault.observability import logger
from streamvault.services.milestone_actions import CREATE_COIN, DISTRIBUTE_REVENUE, ENABLE_REVENUE_SHARE
from streamvault.services.oracle_sync import OracleRuntime, build_runtime

_LONG_STATEMENT_MS = 120_000  # the daily pass computes every creator's metrics


@dataclass(frozen=True)
class MilestoneRuntime:
    oracle: OracleRuntime  # client, signer, transaction manager, settings
    rules: MilestoneRules
    factory: str
    distributor: str


def build_milestone_runtime(oracle: OracleRuntime | None = None) -> MilestoneRuntime:
    oracle = oracle or build_runtime()
    settings = oracle.settings
    if not settings.coin_factory_address or not settings.revenue_distributor_address:
        raise RuntimeError("STREAMVAULT_COIN_FACTORY_ADDRESS and STREAMVAULT_REVENUE_DISTRIBUTOR_ADDRESS must be set")
    return MilestoneRuntime(oracle, MilestoneRules.from_settings(settings), settings.coin_factory_address,
                            settings.revenue_distributor_address)


# --- detection ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DetectionReport:
    creators: int
    recorded: int


def run_creator_ids(conn: Connection, run_id: int) -> list[int]:
    """The creators an oracle run put on chain (its epoch is the run id)."""
    return list(conn.execute(text("SELECT DISTINCT creator_id FROM oracle_sync_items WHERE epoch = :run_id"),
                             {"run_id": run_id}).scalars())


def detect(rules: MilestoneRules, creator_ids: list[int] | None = None, now: datetime | None = None) -> DetectionReport:
    """Record every milestone reached by these creators (all when None) that is not recorded yet."""
    now = now or datetime.now(UTC)
    with transaction(statement_timeout_ms=_LONG_STATEMENT_MS) as conn:
        metrics = metrics_of_many(conn, now, creator_ids)
        found = [(m.creator_id, milestone) for m in metrics for milestone in rules.reached(
            CreatorFigures(m.creator_id, m.plays, m.followers, m.monthly_revenue_attofil))]
        recorded = record_many(conn, found, now)
    logger.info("milestone detection", extra={"creators": len(metrics), "recorded": recorded})
    return DetectionReport(len(metrics), recorded)


# --- coin creation and revenue sharing ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ActionReport:
    coins: int
    sharing_enabled: int
    failed: int
    pending: int


def _enqueue_coin(rt: MilestoneRuntime, conn: Connection, creator_id: int) -> int | None:
    from streamvault.wallets import read_wallet

    wallet = read_wallet(conn, creator_id)
    if wallet is None:
        return None
    data = create_coin_call(rt.oracle.client.w3, rt.factory, creator_id, wallet)
    return rt.oracle.txm.enqueue(conn, coins.action_key(conn, CREATE_COIN, creator_id), CREATE_COIN, rt.factory,
                                 data)[0]


def _enqueue_sharing(rt: MilestoneRuntime, conn: Connection, creator_id: int, coin: str) -> int:
    data = enable_sharing_call(rt.oracle.client.w3, rt.distributor, coin)
    key = coins.action_key(conn, ENABLE_REVENUE_SHARE, creator_id)
    return rt.oracle.txm.enqueue(conn, key, ENABLE_REVENUE_SHARE, rt.distributor, data)[0]


def _each_in_own_transaction(items: list, enqueue: Callable[[Connection, object], int | None]) -> list[int]:
    tx_ids = []
    for item in items:
        with transaction() as conn:
            tx_id = enqueue(conn, item)
        if tx_id is not None:
            tx_ids.append(tx_id)
    return tx_ids


def _send_and_wait(rt: MilestoneRuntime, tx_ids: list[int]) -> list[TxOutcome]:
    """Unfinished ones stay pending: the next run (or the oracle sync's reconciliation) moves them on."""
    for tx_id in tx_ids:
        rt.oracle.txm.send(tx_id)
    return list(rt.oracle.txm.wait(tx_ids, rt.oracle.settings.oracle_receipt_wait_s,
                                   rt.oracle.poll_interval_s).values())


def run_actions(rt: MilestoneRuntime) -> ActionReport:
    with transaction() as conn:
        due_coins = coins.due_for_coin(conn, rt.rules.coin_min_plays, rt.rules.coin_min_followers)
    coin_outcomes = _send_and_wait(rt, _each_in_own_transaction(
        due_coins, lambda conn, creator_id: _enqueue_coin(rt, conn, creator_id)))  # type: ignore[arg-type]
    # After the coins: a creator whose coin was just confirmed can have sharing enabled in the same run.
    with transaction() as conn:
        due_sharing = coins.due_for_revenue_sharing(conn, rt.rules.revenue_share_min_monthly_attofil)
    sharing_outcomes = _send_and_wait(rt, _each_in_own_transaction(
        due_sharing, lambda conn, due: _enqueue_sharing(rt, conn, *due)))  # type: ignore[misc]
    everything = coin_outcomes + sharing_outcomes
    return ActionReport(
        coins=sum(o.status is TxStatus.CONFIRMED for o in coin_outcomes),
        sharing_enabled=sum(o.status is TxStatus.CONFIRMED for o in sharing_outcomes),
        failed=sum(o.status is TxStatus.FAILED for o in everything),
        pending=sum(not o.final for o in everything))


def after_sync(rt: MilestoneRuntime, run_id: int) -> tuple[DetectionReport, ActionReport]:
    """The "oracle sync done" event: the run's creators, then the actions they may now be due."""
    with transaction() as conn:
        creator_ids = run_creator_ids(conn, run_id)
    return detect(rt.rules, creator_ids), run_actions(rt)


def daily(rt: MilestoneRuntime) -> tuple[DetectionReport, ActionReport]:
    """Every creator: catches what no sync announced (revenue rolling into a new month, a missed event)."""
    return detect(rt.rules), run_actions(rt)


# --- quarterly revenue distribution -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DistributionReport:
    quarter: str
    snapshot_block: int
    distributions: int
    deposited_attofil: int
    confirmed: int
    failed: int
    pending: int


def _enqueue_deposit(rt: MilestoneRuntime, conn: Connection, quarter: Quarter, due: revenue.SharingCreator,
                     snapshot_block: int) -> int | None:
    share = holders_share(due.revenue_attofil, rt.oracle.settings.revenue_holders_share_bps)
    if share == 0:
        return None  # nothing to pay (the distributor refuses empty deposits)
    failed_tx = revenue.reopen_failed(conn, due.creator_id, str(quarter))  # a failed deposit is tried again
    distribution_id = revenue.insert_distribution(conn, due.creator_id, str(quarter), due.revenue_attofil, share,
                                                  snapshot_block)
    if distribution_id is None:
        return None  # another run recorded this quarter first: never paid twice
    data = deposit_call(rt.oracle.client.w3, rt.distributor, due.coin_address, quarter.on_chain_id, snapshot_block)
    key = f"{DISTRIBUTE_REVENUE}:{due.creator_id}:{quarter}" + (f":after-{failed_tx}" if failed_tx else "")
    tx_id, _ = rt.oracle.txm.enqueue(conn, key, DISTRIBUTE_REVENUE, rt.distributor, data, value=share)
    revenue.attach_transaction(conn, distribution_id, tx_id)
    return tx_id


def distribute(rt: MilestoneRuntime, quarter: Quarter, now: datetime | None = None) -> DistributionReport:
    """Deposit each sharing creator's holders' share of ``quarter`` (a finished quarter only: its
    revenue must be final, since a quarter is distributed once). Holders are paid pro rata to
    their balance at the snapshot block, taken when this runs (just after the quarter closes, on
    the quarterly schedule)."""
    if (now or datetime.now(UTC)) < quarter.end:
        raise ValueError(f"{quarter} is not over yet: its revenue is not final")
    # One block behind the head: gas estimation runs the deposit *in* the head block's context,
    # where the distributor accepts only an earlier snapshot.
    snapshot_block = rt.oracle.client.block_number() - 1
    with transaction() as conn:
        due = revenue.sharing_creators(conn, str(quarter), quarter.start, quarter.end)
    tx_ids = _each_in_own_transaction(
        due, lambda conn, item: _enqueue_deposit(rt, conn, quarter, item, snapshot_block))  # type: ignore[arg-type]
    outcomes = _send_and_wait(rt, tx_ids)
    with transaction() as conn:
        rows = [r for r in revenue.distributions_of(conn, str(quarter)) if r["snapshot_block"] == snapshot_block]
    return DistributionReport(
        quarter=str(quarter), snapshot_block=snapshot_block, distributions=len(tx_ids),
        deposited_attofil=sum(r["holders_share_attofil"] for r in rows if r["status"] == "CONFIRMED"),
        confirmed=sum(o.status is TxStatus.CONFIRMED for o in outcomes),
        failed=sum(o.status is TxStatus.FAILED for o in outcomes), pending=sum(not o.final for o in outcomes))
