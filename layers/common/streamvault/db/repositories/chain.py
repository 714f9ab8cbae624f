"""The transaction manager's tables: nonces, transactions, attempts, circuit breakers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from streamvault.domain.breaker import Breaker, BreakerState


@dataclass(frozen=True, slots=True)
class TxRow:
    id: int
    idempotency_key: str
    purpose: str
    chain_id: int
    from_address: str
    to_address: str
    data: bytes
    value_attofil: int  # native FIL sent with the call (a revenue deposit); 0 for the rest
    gas_limit: int | None
    state: str
    nonce: int | None
    tx_hash: str | None
    block_number: int | None
    gas_used: int | None
    error_class: str | None
    error_message: str | None


@dataclass(frozen=True, slots=True)
class AttemptRow:
    id: int
    tx_hash: str
    nonce: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    gas_limit: int
    raw: bytes
    state: str
    broadcast_at: datetime | None
    created_at: datetime | None = None  # when it was signed (None: not read back yet)


_TX_COLUMNS = """id, idempotency_key, purpose, chain_id, from_address, to_address, data, value_attofil, gas_limit,
                 state, nonce,
                 tx_hash, block_number, gas_used, error_class, error_message"""


def _tx(row) -> TxRow:
    return TxRow(**{**row._mapping, "data": bytes(row.data), "value_attofil": int(row.value_attofil)})


def insert_transaction(conn: Connection, *, key: str, purpose: str, chain_id: int, sender: str, to: str,
                       data: bytes, value: int = 0) -> tuple[int, bool]:
    """(id, created): an existing transaction with the same idempotency key is returned as is."""
    row = conn.execute(text("""
        INSERT INTO chain_transactions (idempotency_key, purpose, chain_id, from_address, to_address, data,
                                        value_attofil)
        VALUES (:key, :purpose, :chain_id, :sender, :to, :data, :value)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id
    """), {"key": key, "purpose": purpose, "chain_id": chain_id, "sender": sender, "to": to, "data": data,
           "value": value}).first()
    if row is not None:
        return row.id, True
    return conn.execute(text("SELECT id FROM chain_transactions WHERE idempotency_key = :key"),
                        {"key": key}).scalar_one(), False


def get_transaction(conn: Connection, tx_id: int, lock: bool = False) -> TxRow | None:
    # SKIP LOCKED: another worker is already moving this transaction on; this one leaves it be.
    suffix = " FOR UPDATE SKIP LOCKED" if lock else ""
    row = conn.execute(text(f"SELECT {_TX_COLUMNS} FROM chain_transactions WHERE id = :id{suffix}"),
                       {"id": tx_id}).first()
    return None if row is None else _tx(row)


def pending_transaction_ids(conn: Connection, chain_id: int, sender: str) -> list[int]:
    return list(conn.execute(text("""
        SELECT id FROM chain_transactions
        WHERE chain_id = :chain_id AND from_address = :sender AND state IN ('unsent', 'sent')
        ORDER BY nonce NULLS LAST, id
    """), {"chain_id": chain_id, "sender": sender}).scalars())


def attempts_of(conn: Connection, tx_id: int) -> list[AttemptRow]:
    """Oldest first; the last is the current one."""
    rows = conn.execute(text("""
        SELECT id, tx_hash, nonce, max_fee_per_gas, max_priority_fee_per_gas, gas_limit, raw, state, broadcast_at,
               created_at
        FROM chain_tx_attempts WHERE transaction_id = :id ORDER BY id
    """), {"id": tx_id})
    return [AttemptRow(**{**r._mapping, "raw": bytes(r.raw), "max_fee_per_gas": int(r.max_fee_per_gas),
                          "max_priority_fee_per_gas": int(r.max_priority_fee_per_gas)}) for r in rows]


def allocate_nonce(conn: Connection, chain_id: int, sender: str, chain_nonce: int) -> int:
    """The signer's next nonce, taken under the row lock (held until the caller commits the
    attempt that uses it). ``chain_nonce`` (the node's pending count) seeds a first use and
    moves the counter forward when the chain is ahead (a nonce used out of band)."""
    return conn.execute(text("""
        INSERT INTO chain_nonces AS n (chain_id, address, next_nonce) VALUES (:chain_id, :sender, :chain_nonce + 1)
        ON CONFLICT (chain_id, address) DO UPDATE
            SET next_nonce = greatest(n.next_nonce, :chain_nonce) + 1, updated_at = now()
        RETURNING next_nonce - 1
    """), {"chain_id": chain_id, "sender": sender, "chain_nonce": chain_nonce}).scalar_one()


def assign_nonce(conn: Connection, tx_id: int, nonce: int, gas_limit: int) -> None:
    conn.execute(text("""
        UPDATE chain_transactions SET state = 'sent', nonce = :nonce, gas_limit = :gas_limit, updated_at = now()
        WHERE id = :id
    """), {"id": tx_id, "nonce": nonce, "gas_limit": gas_limit})


def release_nonce(conn: Connection, tx_id: int) -> None:
    """The chain used this transaction's nonce for something else: back to unsent, for a new one."""
    conn.execute(text("""
        UPDATE chain_transactions SET state = 'unsent', nonce = NULL, updated_at = now() WHERE id = :id
    """), {"id": tx_id})


def insert_attempt(conn: Connection, tx_id: int, tx_hash: str, nonce: int, max_fee: int, tip: int, gas_limit: int,
                   raw: bytes) -> None:
    conn.execute(text("""
        INSERT INTO chain_tx_attempts (transaction_id, tx_hash, nonce, max_fee_per_gas, max_priority_fee_per_gas,
                                       gas_limit, raw)
        VALUES (:tx_id, :tx_hash, :nonce, :max_fee, :tip, :gas_limit, :raw)
        ON CONFLICT (tx_hash) DO NOTHING
    """), {"tx_id": tx_id, "tx_hash": tx_hash, "nonce": nonce, "max_fee": max_fee, "tip": tip,
           "gas_limit": gas_limit, "raw": raw})


def mark_broadcast(conn: Connection, tx_hash: str) -> None:
    conn.execute(text("""
        UPDATE chain_tx_attempts SET state = 'broadcast', broadcast_at = coalesce(broadcast_at, now())
        WHERE tx_hash = :h
    """), {"h": tx_hash})


def finish_transaction(conn: Connection, tx_id: int, *, state: str, tx_hash: str | None = None,
                       block_number: int | None = None, gas_used: int | None = None,
                       error_class: str | None = None, error_message: str | None = None) -> bool:
    """Confirmed or failed, once: False when it was already finished (by another worker)."""
    return conn.execute(text("""
        UPDATE chain_transactions
        SET state = CAST(:state AS varchar), tx_hash = :tx_hash, block_number = :block_number, gas_used = :gas_used,
            error_class = :error_class, error_message = :error_message, updated_at = now(),
            confirmed_at = CASE WHEN CAST(:state AS varchar) = 'confirmed' THEN now() END
        WHERE id = :id AND state IN ('unsent', 'sent')
    """), {"id": tx_id, "state": state, "tx_hash": tx_hash, "block_number": block_number, "gas_used": gas_used,
           "error_class": error_class, "error_message": error_message}).rowcount == 1


def note_error(conn: Connection, tx_id: int, error_class: str, message: str) -> None:
    """The last retryable error, for operators; the state does not change."""
    conn.execute(text("""
        UPDATE chain_transactions SET error_class = :c, error_message = :m, updated_at = now() WHERE id = :id
    """), {"id": tx_id, "c": error_class, "m": message[:2000]})


def load_breaker(conn: Connection, name: str) -> Breaker:
    """The breaker's state, locked until the caller commits (one probe at a time)."""
    conn.execute(text("INSERT INTO chain_circuit_breakers (name) VALUES (:n) ON CONFLICT DO NOTHING"), {"n": name})
    row = conn.execute(text("""
        SELECT state, consecutive_failures, opened_at FROM chain_circuit_breakers WHERE name = :n FOR UPDATE
    """), {"n": name}).one()
    return Breaker(BreakerState(row.state), row.consecutive_failures, row.opened_at)


def save_breaker(conn: Connection, name: str, b: Breaker) -> None:
    conn.execute(text("""
        UPDATE chain_circuit_breakers
        SET state = :state, consecutive_failures = :failures, opened_at = :opened_at, updated_at = now()
        WHERE name = :n
    """), {"n": name, "state": b.state.value, "failures": b.consecutive_failures, "opened_at": b.opened_at})
