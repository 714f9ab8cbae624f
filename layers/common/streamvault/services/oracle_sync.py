"""The hourly oracle sync: changed creators' metrics → batched transactions → confirmed receipts
→ ``creator_sync_state`` and ``oracle_sync_logs``; and the retry-queue consumer.

A run: (1) asks the circuit breaker; (2) moves every unfinished transaction on (confirm,
re-broadcast, bump); (3) takes a new epoch and the creators whose metrics changed since their
last confirmed sync (or whose heartbeat is due), minus those already inside an unfinished
transaction, computed set-based in SQL; (4) stores each batch's transaction and items in one
database transaction, then sends it; (5) waits a bounded time for receipts; whatever is not final
goes to the SQS retry queue with the backoff as message delay. What a confirmed transaction makes
true is written in the same database transaction that marks it confirmed (``record_final``), so a
retry, a redelivery or a reconciliation can never apply or log it twice.
"""

from __future__ import annotations

import json
import time
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy import Connection, Engine

from streamvault.chain.client import ChainClient
from streamvault.chain.contracts import OnChainMetrics, encode_records, oracle_contract
from streamvault.chain.signers import KmsSigner, LocalSigner, Signer
from streamvault.chain.txmanager import TxManager, TxOutcome, TxPolicy, TxStatus
from streamvault.config import Settings, get_settings
from streamvault.db.engine import get_engine, transaction
from streamvault.db.repositories import chain as chain_repo
from streamvault.db.repositories import oracle_sync as repo
from streamvault.db.repositories.creators import CreatorMetrics, eligible_for_sync
from streamvault.db.repositories.oracle_logs import METRICS_SYNC, OracleLogEntry, last_success_at, write_oracle_log
from streamvault.domain import breaker
from streamvault.domain.chain_errors import ErrorClass
from streamvault.domain.networks import NetworkRules, backoff_delay_s, network_rules
from streamvault.observability import logger, metrics
from streamvault.services.milestone_actions import ACTION_OPERATIONS, record_action_final
from streamvault.services.sync_events import announce_sync_done
from streamvault.tracing import tracer

OPERATION = METRICS_SYNC
BREAKER = "oracle_sync"
_LONG_STATEMENT_MS = 120_000  # the eligibility query over every creator outlasts a request's limit


@dataclass(frozen=True)
class OracleRuntime:
    settings: Settings
    rules: NetworkRules
    engine: Engine
    client: ChainClient
    signer: Signer
    txm: TxManager
    contract_address: str

    @property
    def poll_interval_s(self) -> float:
        return 0.05 if self.rules.backoff_s[0] < 10 else 5.0  # local chains mine at once; Filecoin every 30 s


def make_signer(settings: Settings) -> Signer:
    if settings.oracle_signer == "kms":
        if not settings.oracle_signer_kms_key_id:
            raise RuntimeError("STREAMVAULT_ORACLE_SIGNER_KMS_KEY_ID is required with the kms signer")
        import boto3

        return KmsSigner(boto3.client("kms", region_name=settings.aws_region), settings.oracle_signer_kms_key_id)
    if settings.oracle_signer_private_key is None:
        raise RuntimeError("STREAMVAULT_ORACLE_SIGNER_PRIVATE_KEY is required with the local signer")
    return LocalSigner(settings.oracle_signer_private_key.get_secret_value())


def build_runtime(settings: Settings | None = None, signer: Signer | None = None) -> OracleRuntime:
    settings = settings or get_settings()
    if not settings.chain_rpc_url or not settings.oracle_contract_address:
        raise RuntimeError("STREAMVAULT_CHAIN_RPC_URL and STREAMVAULT_ORACLE_CONTRACT_ADDRESS must be set")
    rules = network_rules(settings.chain_id)
    client = ChainClient(settings.chain_rpc_url, settings.chain_rpc_timeout_s,
                         settings.oracle_fallback_priority_fee_wei)
    signer = signer or make_signer(settings)
    policy = TxPolicy(chain_id=settings.chain_id,
                      max_fee_per_gas=settings.oracle_max_fee_per_gas_wei or rules.default_max_fee_per_gas,
                      bump_percent=settings.oracle_fee_bump_percent or rules.default_bump_percent,
                      stuck_after_s=settings.oracle_stuck_after_s or rules.stuck_after_s,
                      confirmations=settings.oracle_confirmations)
    engine = get_engine()
    txm = TxManager(engine, client, signer, policy, on_final=record_final)
    return OracleRuntime(settings, rules, engine, client, signer, txm, settings.oracle_contract_address)


# --- the retry queue ----------------------------------------------------------------------------
class RetryQueue(Protocol):
    def schedule(self, tx_id: int, attempt: int, delay_s: int) -> None: ...

    def dead_letter(self, tx_id: int, attempt: int, reason: str) -> None: ...


class SqsRetryQueue:
    """Messages ``{"transaction_id", "attempt"}``; the delay is the backoff (SQS allows ≤ 900 s)."""

    def __init__(self, sqs: Any, queue_url: str, dlq_url: str) -> None:
        self._sqs, self._queue_url, self._dlq_url = sqs, queue_url, dlq_url

    def schedule(self, tx_id: int, attempt: int, delay_s: int) -> None:
        self._sqs.send_message(QueueUrl=self._queue_url, DelaySeconds=min(delay_s, 900),
                               MessageBody=json.dumps({"transaction_id": tx_id, "attempt": attempt}))

    def dead_letter(self, tx_id: int, attempt: int, reason: str) -> None:
        self._sqs.send_message(QueueUrl=self._dlq_url, MessageBody=json.dumps(
            {"transaction_id": tx_id, "attempt": attempt, "reason": reason[:1000]}))


class NextRunRetries:
    """No queue (``make run``, the CLI): the next run's reconciliation moves pending work on."""

    def schedule(self, tx_id: int, attempt: int, delay_s: int) -> None:
        logger.info("left to the next run", extra={"tx_id": tx_id, "attempt": attempt})

    def dead_letter(self, tx_id: int, attempt: int, reason: str) -> None:
        logger.error("retries exhausted", extra={"tx_id": tx_id, "attempt": attempt, "reason": reason})


def retry_queue(settings: Settings) -> RetryQueue:
    if settings.oracle_retry_queue_url and settings.oracle_dlq_url:
        import boto3

        return SqsRetryQueue(boto3.client("sqs", region_name=settings.aws_region), settings.oracle_retry_queue_url,
                             settings.oracle_dlq_url)
    return NextRunRetries()


# --- what a final transaction makes true -----------------------------------------------------------
def record_final(conn: Connection, tx: chain_repo.TxRow, outcome: TxOutcome) -> None:
    """The TxManager's hook, inside the database transaction that makes ``tx`` final (once per
    transaction, whichever run, retry or function finishes it: where its metrics are counted)."""
    failed = outcome.status is TxStatus.FAILED
    if failed:
        metrics.add_metric(name="FailedTransactions", unit=MetricUnit.Count, value=1)
    if tx.purpose in ACTION_OPERATIONS:  # the same signer's milestone transactions, finished by any run
        record_action_final(conn, tx, outcome)
        return
    if tx.purpose != OPERATION:
        return
    # One point per finished sync transaction: the hour's average is the share that confirmed. A
    # transaction still pending when its run ends is counted when it finishes, not as a failure.
    metrics.add_metric(name="SyncSuccessRate", unit=MetricUnit.Percent, value=0 if failed else 100)
    if outcome.status is TxStatus.CONFIRMED:
        assert outcome.tx_hash is not None
        repo.apply_confirmed(conn, tx.id, outcome.tx_hash)
    write_oracle_log(conn, OracleLogEntry(
        operation=OPERATION, status="SUCCESS" if outcome.status is TxStatus.CONFIRMED else "FAILED",
        creator_count=repo.item_count(conn, tx.id), tx_hash=outcome.tx_hash, block_number=outcome.block_number,
        gas_used=outcome.gas_used, attempt=repo.attempt_count(conn, tx.id),
        error_class=None if outcome.error_class is None else outcome.error_class.value,
        error_message=outcome.error_message, duration_ms=repo.operation_ms(conn, tx.id),
        details={"transaction_id": tx.id, "nonce": tx.nonce},
    ))


def _log_unfinished(outcome: TxOutcome, attempt: int, status: str) -> None:
    with transaction() as conn:
        write_oracle_log(conn, OracleLogEntry(
            operation=OPERATION, status=status, creator_count=repo.item_count(conn, outcome.tx_id),
            tx_hash=outcome.tx_hash, attempt=attempt,
            error_class=None if outcome.error_class is None else outcome.error_class.value,
            error_message=outcome.error_message, details={"transaction_id": outcome.tx_id},
        ))


# --- the circuit breaker -------------------------------------------------------------------------
def _admit(rt: OracleRuntime) -> bool:
    with transaction() as conn:
        state = chain_repo.load_breaker(conn, BREAKER)
        admitted, new_state = breaker.admit(state, datetime.now(UTC), rt.settings.oracle_breaker_cooldown_s)
        if new_state != state:
            chain_repo.save_breaker(conn, BREAKER, new_state)
    if not admitted:
        logger.warning("oracle circuit breaker open: sync paused", extra={"opened_at": str(state.opened_at)})
        metrics.add_metric(name="OracleBreakerOpen", unit=MetricUnit.Count, value=1)
    return admitted


def _report_health(rt: OracleRuntime, healthy: bool) -> None:
    with transaction() as conn:
        state = chain_repo.load_breaker(conn, BREAKER)
        new_state = breaker.record_success() if healthy else breaker.record_failure(
            state, datetime.now(UTC), rt.settings.oracle_breaker_threshold)
        chain_repo.save_breaker(conn, BREAKER, new_state)
    if new_state.state is breaker.BreakerState.OPEN and state.state is not breaker.BreakerState.OPEN:
        logger.error("oracle circuit breaker opened", extra={"failures": new_state.consecutive_failures})
        metrics.add_metric(name="OracleBreakerOpen", unit=MetricUnit.Count, value=1)


def _healthy(outcomes: list[TxOutcome]) -> bool:
    """A revert is the contract's verdict on one transaction, not a sign the chain path is down."""
    return not any(o.error_class is not None and o.error_class is not ErrorClass.REVERT for o in outcomes)


# --- a run -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SyncReport:
    run_id: int | None
    creators: int
    transactions: int
    confirmed: int
    failed: int
    pending: int
    gas_used: int
    seconds: float
    skipped: str | None = None


def _to_chain(run_id: int, m: CreatorMetrics) -> tuple[int, OnChainMetrics]:
    return m.creator_id, OnChainMetrics(run_id, m.plays, m.followers, m.engagement_bps, m.monthly_revenue_attofil)


def _enqueue_batches(rt: OracleRuntime, run_id: int, creators: list[CreatorMetrics]) -> list[int]:
    contract = oracle_contract(rt.client.w3, rt.contract_address)
    size = rt.settings.oracle_batch_size
    tx_ids = []
    for index in range(0, len(creators), size):
        updates = [_to_chain(run_id, m) for m in creators[index:index + size]]
        data = bytes.fromhex(contract.encode_abi("updateMetricsBatch", [encode_records(updates)])[2:])
        with transaction() as conn:
            tx_id, _ = rt.txm.enqueue(conn, f"oracle:{run_id}:{index // size}", OPERATION, rt.contract_address, data)
            repo.insert_items(conn, tx_id, updates)
        tx_ids.append(tx_id)
    return tx_ids


def _select_creators(now: datetime, heartbeat: timedelta) -> list[CreatorMetrics]:
    with transaction(statement_timeout_ms=_LONG_STATEMENT_MS) as conn:
        busy = repo.in_flight_creator_ids(conn)
        return [m for m in eligible_for_sync(conn, as_of=now, heartbeat=heartbeat) if m.creator_id not in busy]


@tracer.capture_method
def run_sync(rt: OracleRuntime, queue: RetryQueue, trigger: str = "schedule", now: datetime | None = None,
             limit: int | None = None) -> SyncReport:
    started = time.perf_counter()
    if not _admit(rt):
        return SyncReport(None, 0, 0, 0, 0, 0, 0, 0.0, skipped="breaker_open")
    try:
        return _run(rt, queue, trigger, now, limit, started)
    except Exception:
        # A failure no transaction records (the KMS signer, the database, a bug) counts for the
        # breaker like a failed send, so that repeated ones pause the sync, log and alarm.
        logger.exception("oracle sync run failed")
        with suppress(Exception):  # the database itself may be what failed
            _report_health(rt, healthy=False)
        raise


def _run(rt: OracleRuntime, queue: RetryQueue, trigger: str, now: datetime | None, limit: int | None,
         started: float) -> SyncReport:
    reconciled = [rt.txm.poll(tx_id) for tx_id in rt.txm.pending_ids()]
    with transaction() as conn:
        run_id = repo.start_run(conn, trigger)
    creators = _select_creators(now or datetime.now(UTC), timedelta(hours=rt.settings.oracle_heartbeat_hours))
    creators = creators[:limit] if limit is not None else creators
    tx_ids = _enqueue_batches(rt, run_id, creators)
    for tx_id in tx_ids:
        rt.txm.send(tx_id)
    outcomes = list(rt.txm.wait(tx_ids, rt.settings.oracle_receipt_wait_s, rt.poll_interval_s).values())
    for outcome in outcomes:
        if not outcome.final:
            _retry_later(rt, queue, outcome, attempt=1)
    with transaction() as conn:
        repo.finish_run(conn, run_id, len(creators), len(tx_ids))
    _report_health(rt, _healthy(outcomes + reconciled))
    report = SyncReport(
        run_id=run_id, creators=len(creators), transactions=len(tx_ids),
        confirmed=sum(o.status is TxStatus.CONFIRMED for o in outcomes),
        failed=sum(o.status is TxStatus.FAILED for o in outcomes),
        pending=sum(not o.final for o in outcomes), gas_used=sum(o.gas_used or 0 for o in outcomes),
        seconds=round(time.perf_counter() - started, 3),
    )
    # Nothing to sync and nothing in flight: the chain holds every creator's current metrics.
    _emit_run_metrics(report, chain_current=not creators and not rt.txm.pending_ids())
    logger.info("oracle sync run", extra=asdict(report))
    if report.confirmed:
        announce_sync_done(rt.settings, run_id)  # milestone detection listens
    return report


def _retry_later(rt: OracleRuntime, queue: RetryQueue, outcome: TxOutcome, attempt: int) -> None:
    _log_unfinished(outcome, attempt, "RETRYING" if outcome.error_class else "PENDING")
    queue.schedule(outcome.tx_id, attempt, backoff_delay_s(attempt, rt.settings.oracle_backoff_s or rt.rules.backoff_s))


def _emit_run_metrics(report: SyncReport, chain_current: bool) -> None:
    # SyncSuccessRate and FailedTransactions are counted as each transaction finishes (record_final).
    metrics.add_metric(name="SyncDuration", unit=MetricUnit.Milliseconds, value=report.seconds * 1000)
    metrics.add_metric(name="CreatorsSynced", unit=MetricUnit.Count, value=report.creators)
    # How old the chain's data may be: the alarm on it must not fire in a quiet spell with no
    # changes to send (no transaction, so no new success), only when syncs stop landing.
    if chain_current:
        freshness_s: float | None = 0.0
    else:
        with transaction() as conn:
            last = last_success_at(conn, OPERATION)
        freshness_s = None if last is None else (datetime.now(UTC) - last).total_seconds()
    if freshness_s is not None:
        metrics.add_metric(name="DataFreshness", unit=MetricUnit.Seconds, value=freshness_s)


# --- the retry queue's consumer ------------------------------------------------------------------
@tracer.capture_method
def process_retry(rt: OracleRuntime, queue: RetryQueue, body: dict[str, Any]) -> TxOutcome | None:
    """One retry message. The transaction's state in PostgreSQL decides what happens, so a
    redelivered or duplicated message finds it final (nothing to do) or moves it on again at the
    same nonce (never a second send). None when the breaker holds the message back."""
    tx_id, attempt = int(body["transaction_id"]), int(body["attempt"])
    schedule = rt.settings.oracle_backoff_s or rt.rules.backoff_s
    if not _admit(rt):
        queue.schedule(tx_id, attempt, backoff_delay_s(len(schedule), schedule))
        return None
    outcome = rt.txm.poll(tx_id)
    if not outcome.final:
        outcome = rt.txm.wait([tx_id], rt.settings.oracle_receipt_wait_s, rt.poll_interval_s)[tx_id]
    _report_health(rt, _healthy([outcome]))
    metrics.add_metric(name="RetriesProcessed", unit=MetricUnit.Count, value=1)
    if outcome.final:
        if outcome.status is TxStatus.CONFIRMED:
            # On a slow chain most batches confirm here, after their run: milestone detection
            # must hear of them too (a repeat on redelivery is harmless: detection is idempotent).
            with transaction() as conn:
                run_id = repo.run_of(conn, tx_id)
            if run_id is not None:
                announce_sync_done(rt.settings, run_id)
        return outcome
    if attempt >= rt.settings.oracle_max_attempts:
        _log_unfinished(outcome, attempt, "FAILED")
        metrics.add_metric(name="FailedTransactions", unit=MetricUnit.Count, value=1)
        queue.dead_letter(tx_id, attempt, outcome.error_message or "not confirmed")
    else:
        _retry_later(rt, queue, outcome, attempt + 1)
    return outcome


# --- `streamvault oracle test` ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def _check(name: str, probe: Any) -> Check:
    try:
        return Check(name, *probe())
    except Exception as exc:  # each check reports its own failure; the key never appears in errors
        return Check(name, False, f"{type(exc).__name__}: {str(exc)[:300]}")


def diagnose(settings: Settings | None = None) -> list[Check]:
    """Database, RPC, contract, signer: each OK or a clear reason."""
    from streamvault.db.engine import health_check

    settings = settings or get_settings()
    checks = [_check("database", lambda: (health_check()["ok"], "reachable"))]
    if not settings.chain_rpc_url:
        return [*checks, Check("rpc", False, "STREAMVAULT_CHAIN_RPC_URL is not set")]
    client = ChainClient(settings.chain_rpc_url, settings.chain_rpc_timeout_s)

    def rpc() -> tuple[bool, str]:
        chain_id = client.chain_id()
        return chain_id == settings.chain_id, f"chain id {chain_id} (configured {settings.chain_id})"

    checks.append(_check("rpc", rpc))
    signer_check = _check("signer", lambda: (True, make_signer(settings).address))
    checks.append(signer_check)
    if signer_check.ok:
        address = signer_check.detail
        checks.append(_check("balance", lambda: (client.balance(address) > 0, f"{client.balance(address)} attoFIL")))
        checks.append(_check("contract", lambda: _contract_check(client, settings.oracle_contract_address, address)))
    return checks


def _contract_check(client: ChainClient, address: str | None, signer: str) -> tuple[bool, str]:
    from streamvault.chain.contracts import ORACLE_ROLE

    if not address:
        return False, "STREAMVAULT_ORACLE_CONTRACT_ADDRESS is not set"
    if client.code_size(address) == 0:
        return False, f"no contract code at {address}"
    has_role = oracle_contract(client.w3, address).functions.hasRole(ORACLE_ROLE, signer).call()
    return has_role, f"{address}; signer {'has' if has_role else 'LACKS'} ORACLE_ROLE"
