"""Creator coins and revenue sharing: who is due an on-chain action, and what a confirmed one
makes true. Actions are chain transactions whose idempotency key names them:
``CREATE_COIN:<creator>:<n>`` and ``ENABLE_REVENUE_SHARE:<creator>:<n>``, n counting earlier failed
attempts (a failed key cannot be reused: the key is unique)."""

from __future__ import annotations

from sqlalchemy import Connection, text

# A creator with a live (unsent, sent) or confirmed action of this purpose is not due another one.
_NO_OPEN_ACTION = """
    NOT EXISTS (SELECT 1 FROM chain_transactions t
                WHERE t.purpose = :purpose AND t.idempotency_key LIKE :purpose || ':' || c.id || ':%'
                  AND t.state <> 'failed')
"""


def action_key(conn: Connection, purpose: str, creator_id: int) -> str:
    """The next idempotency key for this creator's action: one more than its failed attempts."""
    failed = conn.execute(text("""
        SELECT count(*) FROM chain_transactions
        WHERE purpose = :purpose AND idempotency_key LIKE :purpose || ':' || :creator_id || ':%' AND state = 'failed'
    """), {"purpose": purpose, "creator_id": creator_id}).scalar_one()
    return f"{purpose}:{creator_id}:{failed}"


def creator_of_key(key: str) -> int:
    return int(key.split(":")[1])


def due_for_coin(conn: Connection, min_plays: int, min_followers: int) -> list[int]:
    """Creators without a coin whose metrics *as confirmed on chain* meet both thresholds (the
    factory checks the oracle's copy, so the live counters alone would only make it revert)."""
    return list(conn.execute(text(f"""
        SELECT c.id FROM creators c JOIN creator_sync_state s ON s.creator_id = c.id
        WHERE c.deleted_at IS NULL AND c.coin_address IS NULL AND c.wallet_ciphertext IS NOT NULL
          AND s.plays >= :min_plays AND s.followers >= :min_followers AND {_NO_OPEN_ACTION}
        ORDER BY c.id
    """), {"min_plays": min_plays, "min_followers": min_followers, "purpose": "CREATE_COIN"}).scalars())


def due_for_revenue_sharing(conn: Connection, threshold_attofil: int) -> list[tuple[int, str]]:
    """(creator, coin) with a coin, the REVENUE milestone reached, and sharing not yet enabled."""
    rows = conn.execute(text(f"""
        SELECT c.id, c.coin_address FROM creators c
        WHERE c.deleted_at IS NULL AND c.coin_address IS NOT NULL AND NOT c.revenue_sharing_enabled
          AND EXISTS (SELECT 1 FROM creator_milestones m WHERE m.creator_id = c.id
                        AND m.milestone_type = 'REVENUE' AND m.threshold = :threshold)
          AND {_NO_OPEN_ACTION}
        ORDER BY c.id
    """), {"threshold": threshold_attofil, "purpose": "ENABLE_REVENUE_SHARE"}).all()
    return [(r.id, r.coin_address) for r in rows]


def record_coin(conn: Connection, creator_id: int, coin_address: str, tx_hash: str) -> None:
    conn.execute(text("""
        UPDATE creators SET coin_address = :coin, coin_tx_hash = :tx_hash, updated_at = now()
        WHERE id = :id AND coin_address IS NULL
    """), {"id": creator_id, "coin": coin_address, "tx_hash": tx_hash})


def enable_revenue_sharing(conn: Connection, creator_id: int) -> None:
    conn.execute(text("UPDATE creators SET revenue_sharing_enabled = true, updated_at = now() WHERE id = :id"),
                 {"id": creator_id})
