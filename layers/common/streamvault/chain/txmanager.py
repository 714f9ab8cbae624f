"""A transaction manager with its state in PostgreSQL, shaped like Chainlink's txmgr.

Life of a transaction: ``enqueue`` stores it (``unsent``) in the caller's database transaction,
next to the rows it is about (so intent and data commit together). ``send`` estimates gas (a
revert there fails it before any nonce is spent), then in ONE database transaction takes the
next nonce under a row lock, signs, and stores the attempt (``in_progress``); only after that
commit does it broadcast, then marks the attempt ``broadcast``. A process that dies between the
broadcast and that mark leaves an ``in_progress`` attempt: ``poll`` re-broadcasts the very same
signed bytes (the node answers "already known", or "nonce too low" once it is mined) and finds
its receipt. The same nonce and bytes can be mined once at most, so nothing is ever sent twice.

``poll`` also confirms (after ``confirmations`` blocks), fails a mined revert with its reason,
replaces an attempt stuck longer than ``stuck_after_s`` with bumped fees at the same nonce, and
moves a transaction whose nonce the chain used for something else onto a fresh nonce.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from eth_utils import keccak, to_checksum_address
from sqlalchemy import Connection, Engine

from streamvault.chain.client import ChainClient, ChainError, Receipt
from streamvault.chain.signers import Signer
from streamvault.db.repositories import chain as repo
from streamvault.domain.chain_errors import ErrorClass
from streamvault.domain.fees import FeeCapExceeded, Fees, bumped_fees, initial_fees, market_fees
from streamvault.observability import logger

GAS_MARGIN_PERCENT = 20  # over the estimate: state can change between estimate and inclusion


class TxStatus(StrEnum):
    UNSENT = "unsent"
    PENDING = "pending"  # broadcast (or about to be), no final receipt yet
    CONFIRMED = "confirmed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TxOutcome:
    tx_id: int
    status: TxStatus
    tx_hash: str | None = None
    block_number: int | None = None
    gas_used: int | None = None
    error_class: ErrorClass | None = None
    error_message: str | None = None

    @property
    def final(self) -> bool:
        return self.status in (TxStatus.CONFIRMED, TxStatus.FAILED)


@dataclass(frozen=True, slots=True)
class TxPolicy:
    chain_id: int
    max_fee_per_gas: int
    bump_percent: int
    stuck_after_s: float
    confirmations: int = 1


# Called once per transaction, inside the database transaction that makes it final, so that
# what depends on the outcome (the oracle's sync state and log) commits with it or not at all.
OnFinal = Callable[[Connection, repo.TxRow, "TxOutcome"], None]


class TxManager:
    def __init__(self, engine: Engine, client: ChainClient, signer: Signer, policy: TxPolicy,
                 on_final: OnFinal | None = None) -> None:
        self.engine = engine
        self.client = client
        self.signer = signer
        self.policy = policy
        self.on_final = on_final

    # --- intent -----------------------------------------------------------------------------
    def enqueue(self, conn: Connection, key: str, purpose: str, to: str, data: bytes,
                value: int = 0) -> tuple[int, bool]:
        """Store a transaction to send (in the caller's database transaction); (id, created).
        ``value``: attoFIL sent with the call (a revenue deposit)."""
        return repo.insert_transaction(conn, key=key, purpose=purpose, chain_id=self.policy.chain_id,
                                       sender=self.signer.address, to=to_checksum_address(to), data=data, value=value)

    # --- first broadcast ----------------------------------------------------------------------
    def send(self, tx_id: int) -> TxOutcome:
        """Move an unsent transaction on to the chain; for any other state, the same as ``poll``."""
        with self.engine.connect() as conn:
            tx = repo.get_transaction(conn, tx_id)
        if tx is None:
            raise LookupError(f"no transaction {tx_id}")
        if tx.state != "unsent":
            return self.poll(tx_id)
        try:
            gas_limit = self.client.estimate_gas(tx.from_address, tx.to_address, tx.data, tx.value_attofil)
        except ChainError as err:
            return self._fail_or_note(tx_id, err)
        gas_limit = gas_limit * (100 + GAS_MARGIN_PERCENT) // 100
        try:
            attempt = self._sign_first_attempt(tx_id, gas_limit)
        except ChainError as err:
            return self._fail_or_note(tx_id, err)
        except FeeCapExceeded as err:
            return self._note(tx_id, ErrorClass.FEE_CAP, str(err))
        if attempt is None:  # another worker holds or has taken it: let that one finish
            return TxOutcome(tx_id, TxStatus.PENDING)
        return self._broadcast(tx_id, attempt)

    def _sign_first_attempt(self, tx_id: int, gas_limit: int) -> repo.AttemptRow | None:
        fees = self._fees()
        chain_nonce = self.client.nonce(self.signer.address, "pending")
        with self.engine.begin() as conn:
            tx = repo.get_transaction(conn, tx_id, lock=True)
            if tx is None or tx.state != "unsent":
                return None
            nonce = repo.allocate_nonce(conn, self.policy.chain_id, self.signer.address, chain_nonce)
            repo.assign_nonce(conn, tx_id, nonce, gas_limit)
            return self._store_attempt(conn, tx, nonce, gas_limit, fees)

    def _fees(self) -> Fees:
        return initial_fees(*self.client.fee_inputs(), cap=self.policy.max_fee_per_gas)

    def _store_attempt(self, conn: Connection, tx: repo.TxRow, nonce: int, gas_limit: int,
                       fees: Fees) -> repo.AttemptRow:
        raw = self.signer.sign({
            "type": 2, "chainId": self.policy.chain_id, "nonce": nonce, "to": tx.to_address, "data": tx.data,
            "value": tx.value_attofil, "gas": gas_limit, "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        })
        tx_hash = "0x" + keccak(raw).hex()
        repo.insert_attempt(conn, tx.id, tx_hash, nonce, fees.max_fee_per_gas, fees.max_priority_fee_per_gas,
                            gas_limit, raw)
        return repo.AttemptRow(0, tx_hash, nonce, fees.max_fee_per_gas, fees.max_priority_fee_per_gas, gas_limit,
                               raw, "in_progress", None)

    def _broadcast(self, tx_id: int, attempt: repo.AttemptRow) -> TxOutcome:
        try:
            self.client.send_raw(attempt.raw)
        except ChainError as err:
            if err.error_class is ErrorClass.NONCE:
                return self._nonce_conflict(tx_id, err)
            if err.error_class is ErrorClass.UNDERPRICED:
                # Refused for its fees: counted as offered, so that once it is "stuck" the next
                # replacement bumps from these fees instead of re-sending the same refused bytes.
                with self.engine.begin() as conn:
                    repo.mark_broadcast(conn, attempt.tx_hash)
                return self._note(tx_id, err.error_class, str(err))
            if err.error_class is not ErrorClass.ALREADY_KNOWN:  # already known: broadcast all the same
                # Never failed here, whatever the class: the transaction holds a nonce, and giving
                # it up would leave a gap that blocks every later transaction of the signer.
                # (Reverts are caught by the gas estimate, before any nonce is taken.)
                return self._note(tx_id, err.error_class, str(err))
        with self.engine.begin() as conn:
            repo.mark_broadcast(conn, attempt.tx_hash)
        return TxOutcome(tx_id, TxStatus.PENDING, tx_hash=attempt.tx_hash)

    # --- after the broadcast --------------------------------------------------------------------
    def poll(self, tx_id: int) -> TxOutcome:
        """One look at a transaction: final outcome, or move it on (re-broadcast, bump, resync)."""
        with self.engine.connect() as conn:
            tx = repo.get_transaction(conn, tx_id)
            attempts = repo.attempts_of(conn, tx_id) if tx else []
        if tx is None:
            raise LookupError(f"no transaction {tx_id}")
        if tx.state in ("confirmed", "failed"):
            return _outcome_of(tx)
        if tx.state == "unsent":
            return self.send(tx_id)
        try:
            receipt = self._mined_receipt(attempts)
            if receipt is not None:  # mined: wait for its depth; re-sending or replacing it could only fail
                return self._settle(tx, receipt)
            current = [a for a in attempts if a.nonce == tx.nonce][-1]
            if current.state == "in_progress":  # the broadcast's bookkeeping never happened (or failed)
                return self._broadcast(tx_id, current)
            if self._is_stuck(current):
                return self._replace(tx, current)
        except ChainError as err:
            return self._fail_or_note(tx_id, err)
        return TxOutcome(tx_id, TxStatus.PENDING, tx_hash=attempts[-1].tx_hash)

    def _mined_receipt(self, attempts: list[repo.AttemptRow]) -> Receipt | None:
        """The receipt of whichever attempt was mined, however deep."""
        for attempt in reversed(attempts):
            receipt = self.client.receipt(attempt.tx_hash)
            if receipt is not None:
                return receipt
        return None

    def _settle(self, tx: repo.TxRow, receipt: Receipt) -> TxOutcome:
        """Final once the mined attempt is ``confirmations`` blocks deep; pending until then."""
        if self.client.block_number() - receipt.block_number + 1 >= self.policy.confirmations:
            return self._finish_mined(tx, receipt)
        return TxOutcome(tx.id, TxStatus.PENDING, tx_hash=receipt.tx_hash, block_number=receipt.block_number)

    def _finish_mined(self, tx: repo.TxRow, receipt: Receipt) -> TxOutcome:
        if receipt.status == 1:
            outcome = TxOutcome(tx.id, TxStatus.CONFIRMED, receipt.tx_hash, receipt.block_number, receipt.gas_used)
        else:
            reason = self.client.replay_revert_reason(tx.from_address, tx.to_address, tx.data, receipt.block_number,
                                                      tx.value_attofil)
            logger.warning("transaction reverted on chain", extra={"tx_id": tx.id, "tx_hash": receipt.tx_hash,
                                                                    "reason": reason})
            outcome = TxOutcome(tx.id, TxStatus.FAILED, receipt.tx_hash, receipt.block_number, receipt.gas_used,
                                ErrorClass.REVERT, reason)
        self._finish(tx, outcome)
        return outcome

    def _finish(self, tx: repo.TxRow, outcome: TxOutcome) -> None:
        with self.engine.begin() as conn:
            finished = repo.finish_transaction(
                conn, tx.id, state=outcome.status.value, tx_hash=outcome.tx_hash, block_number=outcome.block_number,
                gas_used=outcome.gas_used, error_class=outcome.error_class, error_message=outcome.error_message)
            if finished and self.on_final is not None:
                self.on_final(conn, tx, outcome)

    def _is_stuck(self, attempt: repo.AttemptRow) -> bool:
        since = attempt.broadcast_at
        return since is not None and datetime.now(UTC) - since >= timedelta(seconds=self.policy.stuck_after_s)

    def _replace(self, tx: repo.TxRow, current: repo.AttemptRow) -> TxOutcome:
        """Same nonce, fees raised by at least the bump (see domain.networks for why ≥ 25% on Filecoin)."""
        previous = Fees(current.max_fee_per_gas, current.max_priority_fee_per_gas)
        try:
            fees = bumped_fees(previous, self.policy.bump_percent, self.policy.max_fee_per_gas,
                               market=market_fees(*self.client.fee_inputs()))
        except FeeCapExceeded as err:
            return self._note(tx.id, ErrorClass.FEE_CAP, str(err))
        assert tx.nonce is not None
        with self.engine.begin() as conn:
            attempt = self._store_attempt(conn, tx, tx.nonce, current.gas_limit, fees)
        logger.info("replacing a stuck transaction", extra={
            "tx_id": tx.id, "nonce": tx.nonce, "old_hash": current.tx_hash, "new_hash": attempt.tx_hash,
            "max_fee_per_gas": fees.max_fee_per_gas, "bump_percent": self.policy.bump_percent})
        return self._broadcast(tx.id, attempt)

    def _nonce_conflict(self, tx_id: int, err: ChainError) -> TxOutcome:
        """"Nonce too low" on a broadcast: either one of our attempts was mined (its receipt says
        so, now or soon: a node may serve the receipt a block after the nonce moved on), or
        something else used the nonce, and the transaction moves to a fresh one."""
        with self.engine.connect() as conn:
            tx = repo.get_transaction(conn, tx_id)
            attempts = repo.attempts_of(conn, tx_id)
        assert tx is not None
        receipt = self._mined_receipt(attempts)
        if receipt is not None:
            return self._settle(tx, receipt)
        last_offered = max((a.broadcast_at or a.created_at for a in attempts), default=None)
        if last_offered is not None and datetime.now(UTC) - last_offered < timedelta(seconds=self.policy.stuck_after_s):
            # Too soon to call the nonce someone else's: sending again on a new nonce while our own
            # mined attempt's receipt is late would send the transaction twice.
            return self._note(tx_id, ErrorClass.NONCE, f"{err}; waiting for a receipt of our attempts")
        logger.warning("nonce used outside this manager: resyncing", extra={"tx_id": tx_id, "nonce": tx.nonce})
        with self.engine.begin() as conn:
            repo.release_nonce(conn, tx_id)
            repo.note_error(conn, tx_id, ErrorClass.NONCE, f"nonce {tx.nonce} was used by another transaction")
        return self.send(tx_id)

    # --- errors -----------------------------------------------------------------------------
    def _fail_or_note(self, tx_id: int, err: ChainError) -> TxOutcome:
        if err.error_class is ErrorClass.REVERT:
            logger.warning("transaction reverts: not retried", extra={"tx_id": tx_id, "reason": str(err)})
            with self.engine.connect() as conn:
                tx = repo.get_transaction(conn, tx_id)
            assert tx is not None
            outcome = TxOutcome(tx_id, TxStatus.FAILED, error_class=err.error_class, error_message=str(err))
            self._finish(tx, outcome)
            return outcome
        return self._note(tx_id, err.error_class, str(err))

    def _note(self, tx_id: int, error_class: ErrorClass, message: str) -> TxOutcome:
        with self.engine.begin() as conn:
            repo.note_error(conn, tx_id, error_class, message)
            tx = repo.get_transaction(conn, tx_id)
        assert tx is not None
        status = TxStatus.UNSENT if tx.state == "unsent" else TxStatus.PENDING
        return TxOutcome(tx_id, status, error_class=error_class, error_message=message)

    # --- many at once -------------------------------------------------------------------------
    def pending_ids(self) -> list[int]:
        with self.engine.connect() as conn:
            return repo.pending_transaction_ids(conn, self.policy.chain_id, self.signer.address)

    def wait(self, tx_ids: list[int], timeout_s: float, poll_interval_s: float) -> dict[int, TxOutcome]:
        """Poll until every transaction is final or ``timeout_s`` passes; the last outcome of each."""
        outcomes: dict[int, TxOutcome] = {}
        deadline = time.monotonic() + timeout_s
        open_ids = list(tx_ids)
        while open_ids:
            for tx_id in open_ids:
                outcomes[tx_id] = self.poll(tx_id)
            open_ids = [i for i in open_ids if not outcomes[i].final]
            if not open_ids or time.monotonic() >= deadline:
                break
            time.sleep(poll_interval_s)
        return outcomes


def _outcome_of(tx: repo.TxRow) -> TxOutcome:
    return TxOutcome(tx.id, TxStatus(tx.state), tx.tx_hash, tx.block_number, tx.gas_used,
                     None if tx.error_class is None else ErrorClass(tx.error_class), tx.error_message)
