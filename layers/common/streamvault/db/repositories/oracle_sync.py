"""The oracle sync's rows: runs (their ids are on-chain epochs), the creators inside each
transaction, and what a confirmed transaction makes true in ``creator_sync_state``."""

from __future__ import annotations

from sqlalchemy import Connection, text

from streamvault.chain.contracts import OnChainMetrics


def start_run(conn: Connection, trigger: str) -> int:
    return conn.execute(text("INSERT INTO oracle_sync_runs (trigger) VALUES (:t) RETURNING id"),
                        {"t": trigger}).scalar_one()


def finish_run(conn: Connection, run_id: int, creators: int, transactions: int) -> None:
    conn.execute(text("""
        UPDATE oracle_sync_runs SET finished_at = now(), creators = :creators, transactions = :transactions
        WHERE id = :id
    """), {"id": run_id, "creators": creators, "transactions": transactions})


def in_flight_creator_ids(conn: Connection) -> set[int]:
    """Creators inside a transaction not yet final: a new run leaves them to it."""
    return set(conn.execute(text("""
        SELECT i.creator_id FROM oracle_sync_items i
        JOIN chain_transactions t ON t.id = i.transaction_id
        WHERE t.state IN ('unsent', 'sent')
    """)).scalars())


def insert_items(conn: Connection, tx_id: int, updates: list[tuple[int, OnChainMetrics]]) -> None:
    conn.execute(text("""
        INSERT INTO oracle_sync_items (transaction_id, creator_id, epoch, plays, followers, engagement_bps,
                                       monthly_revenue_attofil)
        VALUES (:tx_id, :creator_id, :epoch, :plays, :followers, :engagement_bps, :monthly_revenue_attofil)
        ON CONFLICT DO NOTHING
    """), [{"tx_id": tx_id, "creator_id": creator_id, "epoch": m.epoch, "plays": m.plays, "followers": m.followers,
            "engagement_bps": m.engagement_bps, "monthly_revenue_attofil": m.monthly_revenue_attofil}
           for creator_id, m in updates])


def run_of(conn: Connection, tx_id: int) -> int | None:
    """The run (its epoch) whose updates a transaction carries; None for any other transaction."""
    return conn.execute(text("SELECT max(epoch) FROM oracle_sync_items WHERE transaction_id = :id"),
                        {"id": tx_id}).scalar_one()


def item_count(conn: Connection, tx_id: int) -> int:
    return conn.execute(text("SELECT count(*) FROM oracle_sync_items WHERE transaction_id = :id"),
                        {"id": tx_id}).scalar_one()


def apply_confirmed(conn: Connection, tx_id: int, tx_hash: str) -> int:
    """Record what a confirmed transaction put on chain, set-based; a newer epoch already
    recorded wins (the contract ignored the older one too). Returns the rows written."""
    return conn.execute(text("""
        INSERT INTO creator_sync_state AS s (creator_id, epoch, plays, followers, engagement_bps,
                                             monthly_revenue_attofil, synced_at, tx_hash)
        SELECT creator_id, epoch, plays, followers, engagement_bps, monthly_revenue_attofil, now(), :tx_hash
        FROM oracle_sync_items WHERE transaction_id = :tx_id
        ON CONFLICT (creator_id) DO UPDATE
            SET epoch = excluded.epoch, plays = excluded.plays, followers = excluded.followers,
                engagement_bps = excluded.engagement_bps, monthly_revenue_attofil = excluded.monthly_revenue_attofil,
                synced_at = excluded.synced_at, tx_hash = excluded.tx_hash
            WHERE s.epoch < excluded.epoch
    """), {"tx_id": tx_id, "tx_hash": tx_hash}).rowcount


def operation_ms(conn: Connection, tx_id: int) -> int:
    """From the intent to now: what an operation took, retries and replacements included."""
    return conn.execute(text("""
        SELECT (extract(epoch FROM now() - created_at) * 1000)::integer FROM chain_transactions WHERE id = :id
    """), {"id": tx_id}).scalar_one()


def attempt_count(conn: Connection, tx_id: int) -> int:
    return conn.execute(text("SELECT greatest(count(*), 1) FROM chain_tx_attempts WHERE transaction_id = :id"),
                        {"id": tx_id}).scalar_one()
