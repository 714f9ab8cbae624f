"""What a finished milestone transaction (CREATE_COIN, ENABLE_REVENUE_SHARE, DISTRIBUTE_REVENUE)
makes true, written inside the database transaction that makes it final, and its line in
``oracle_sync_logs``. Called by the transaction manager's hook whichever run finishes it (the
oracle sync's reconciliation polls every pending transaction of the signer), hence apart from
``services.milestones``: the oracle sync imports this module, not the other way round."""

from __future__ import annotations

from sqlalchemy import Connection

from streamvault.chain.coins import predict_coin_address
from streamvault.chain.txmanager import TxOutcome, TxStatus
from streamvault.config import get_settings
from streamvault.db.repositories import coins, revenue
from streamvault.db.repositories import oracle_sync as tx_facts
from streamvault.db.repositories.chain import TxRow
from streamvault.db.repositories.milestones import set_action_tx
from streamvault.db.repositories.oracle_logs import OracleLogEntry, write_oracle_log
from streamvault.domain.milestones import MilestoneType

CREATE_COIN = "CREATE_COIN"
ENABLE_REVENUE_SHARE = "ENABLE_REVENUE_SHARE"
DISTRIBUTE_REVENUE = "DISTRIBUTE_REVENUE"
ACTION_OPERATIONS = (CREATE_COIN, ENABLE_REVENUE_SHARE, DISTRIBUTE_REVENUE)


def record_action_final(conn: Connection, tx: TxRow, outcome: TxOutcome) -> None:
    confirmed = outcome.status is TxStatus.CONFIRMED
    if tx.purpose == DISTRIBUTE_REVENUE:
        creator_id = revenue.finish_distribution(conn, tx.id, "CONFIRMED" if confirmed else "FAILED",
                                                 outcome.tx_hash)
    else:
        creator_id = coins.creator_of_key(tx.idempotency_key)
        if confirmed:
            assert outcome.tx_hash is not None
            _apply(conn, tx, creator_id, outcome.tx_hash)
    write_oracle_log(conn, OracleLogEntry(
        operation=tx.purpose, status="SUCCESS" if confirmed else "FAILED", creator_id=creator_id,
        tx_hash=outcome.tx_hash, block_number=outcome.block_number, gas_used=outcome.gas_used,
        attempt=tx_facts.attempt_count(conn, tx.id),
        error_class=None if outcome.error_class is None else outcome.error_class.value,
        error_message=outcome.error_message, duration_ms=tx_facts.operation_ms(conn, tx.id),
        details={"transaction_id": tx.id, "idempotency_key": tx.idempotency_key,
                 "value_attofil": str(tx.value_attofil)},
    ))


def _apply(conn: Connection, tx: TxRow, creator_id: int, tx_hash: str) -> None:
    settings = get_settings()
    if tx.purpose == CREATE_COIN:
        # The receipt proves the factory ran createCoin for this id: the coin sits at its CREATE2 address.
        coins.record_coin(conn, creator_id, predict_coin_address(tx.to_address, creator_id), tx_hash)
        set_action_tx(conn, creator_id, MilestoneType.PLAYS, settings.coin_min_plays, tx_hash)
    else:
        coins.enable_revenue_sharing(conn, creator_id)
        set_action_tx(conn, creator_id, MilestoneType.REVENUE, settings.revenue_share_min_monthly_attofil, tx_hash)
