"""The audit log: one row per administrator action, written in the action's own transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text


def write_audit(conn: Connection, actor: str, action: str, entity_type: str, entity_id: int | str | None,
                before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
    """Record an action; ``before``/``after`` must already be JSON-ready and free of secrets
    and personal data (the caller redacts: the log outlives erasures)."""
    return conn.execute(
        text("""
            INSERT INTO audit_log (actor, action, entity_type, entity_id, before, after)
            VALUES (:actor, :action, :entity_type, :entity_id, CAST(:before AS jsonb), CAST(:after AS jsonb))
            RETURNING id
        """),
        {"actor": actor, "action": action, "entity_type": entity_type,
         "entity_id": None if entity_id is None else str(entity_id),
         "before": None if before is None else json.dumps(before),
         "after": None if after is None else json.dumps(after)},
    ).scalar_one()
