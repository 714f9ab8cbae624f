"""PostgreSQL for `make run` and the tests: the server named by a URL, else an embedded one.

The embedded server comes from the ``pgserver`` package (a dev dependency, never in the layer).
"""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path

from sqlalchemy import create_engine, text

from streamvault.db.engine import psycopg_url


def start_embedded(data_dir: Path, ephemeral: bool = False) -> str:
    """Start (or reuse) an embedded PostgreSQL in ``data_dir``; returns its URL.

    It stops when this process exits; ``ephemeral`` also deletes its data.
    """
    import pgserver  # dev dependency

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs complains about XDG_RUNTIME_DIR as root
        server = pgserver.get_server(data_dir, cleanup_mode="delete" if ephemeral else "stop")
    return server.get_uri()


def with_database(url: str, database: str) -> str:
    return psycopg_url(url).set(database=database).render_as_string(hide_password=False)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """CREATE DATABASE (optionally from a template); returns the new database's URL."""
    admin = create_engine(with_database(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    finally:
        admin.dispose()
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    admin = create_engine(with_database(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
