"""API keys: create, revoke, list, and the authorizer's look-up by hash."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from streamvault.api_keys import display_prefix, generate_key, hash_key


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: uuid.UUID
    name: str
    key_prefix: str
    scopes: list[str]
    rate_limit_per_s: int | None
    burst: int | None
    created_at: datetime
    revoked_at: datetime | None


_COLUMNS = "id, name, key_prefix, scopes, rate_limit_per_s, burst, created_at, revoked_at"


def create_key(conn: Connection, name: str, scopes: list[str], rate_limit_per_s: int | None = None,
               burst: int | None = None) -> tuple[str, ApiKeyInfo]:
    """A new key: the secret (to show once) and its stored description."""
    key = generate_key()
    row = conn.execute(
        text(f"""
            INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, rate_limit_per_s, burst)
            VALUES (:id, :name, :hash, :prefix, :scopes, :rate, :burst)
            RETURNING {_COLUMNS}
        """),
        {"id": uuid.uuid4(), "name": name, "hash": hash_key(key), "prefix": display_prefix(key), "scopes": scopes,
         "rate": rate_limit_per_s, "burst": burst},
    ).one()
    return key, ApiKeyInfo(**row._asdict())


def revoke_key(conn: Connection, key_id: uuid.UUID) -> ApiKeyInfo | None:
    """Revoke a live key: the key as revoked (for the audit log), None when there is no such live key."""
    row = conn.execute(
        text(f"UPDATE api_keys SET revoked_at = now() WHERE id = :id AND revoked_at IS NULL RETURNING {_COLUMNS}"),
        {"id": key_id},
    ).one_or_none()
    return None if row is None else ApiKeyInfo(**row._asdict())


def list_keys(conn: Connection, include_revoked: bool = False) -> list[ApiKeyInfo]:
    rows = conn.execute(
        text(f"""
            SELECT {_COLUMNS} FROM api_keys
            WHERE :all OR revoked_at IS NULL
            ORDER BY created_at, id
        """),
        {"all": include_revoked},
    ).all()
    return [ApiKeyInfo(**r._asdict()) for r in rows]


def find_live_key(conn: Connection, key: str) -> ApiKeyInfo | None:
    row = conn.execute(
        text(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = :hash AND revoked_at IS NULL"),
        {"hash": hash_key(key)},
    ).one_or_none()
    return None if row is None else ApiKeyInfo(**row._asdict())
