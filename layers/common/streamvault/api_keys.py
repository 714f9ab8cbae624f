"""API keys: 256-bit random secrets shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "sv_"
SCOPES = frozenset({"read", "ingest", "admin"})


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def display_prefix(key: str) -> str:
    """The first characters of a key, enough to recognise it in a list."""
    return key[: len(KEY_PREFIX) + 6]


def parse_scopes(raw: str | list[str]) -> list[str]:
    """``"read,ingest"`` or a list → sorted scopes; ValueError on an unknown or empty one."""
    items = raw.split(",") if isinstance(raw, str) else raw
    scopes = sorted({s.strip() for s in items if s.strip()})
    unknown = set(scopes) - SCOPES
    if not scopes or unknown:
        raise ValueError(f"scopes must be a non-empty subset of {sorted(SCOPES)}, got {raw!r}")
    return scopes
