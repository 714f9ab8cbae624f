"""Shared fixtures: a real PostgreSQL for integration tests, one fresh database per test.

Which server: ``STREAMVAULT_TEST_DATABASE_URL`` if set, else ``DATABASE_URL``, else an
embedded PostgreSQL (pgserver) started for the session. Migrations run once into a template
database; each test gets ``CREATE DATABASE … TEMPLATE`` of it, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, Row, create_engine, text
from streamvault.config import Settings, configure, reset_settings
from streamvault.db import migrate
from streamvault.db.engine import dispose_engines, get_engine, psycopg_url
from streamvault.local.postgres import create_database, drop_database, start_embedded, unique_name


def fetch(db_url: str, sql: str, **params: Any) -> list[Row]:
    """The rows of one query on a database, read without the application's engines or settings."""
    engine = create_engine(psycopg_url(db_url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    settings = Settings()
    url = settings.test_database_url or settings.database_url
    if url:
        return url
    return start_embedded(tmp_path_factory.mktemp("pg") / "data", ephemeral=True)


@pytest.fixture(scope="session")
def template_database(pg_server_url: str) -> Iterator[str]:
    name = unique_name("sv_template")
    engine = create_engine(psycopg_url(create_database(pg_server_url, name)))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    yield name
    drop_database(pg_server_url, name)


@pytest.fixture
def empty_db_url(pg_server_url: str) -> Iterator[str]:
    """A new database with no schema at all (for migration tests)."""
    name = unique_name("sv_empty")
    yield create_database(pg_server_url, name)
    drop_database(pg_server_url, name)


@pytest.fixture
def db_url(pg_server_url: str, template_database: str) -> Iterator[str]:
    """A new database at the migration head."""
    name = unique_name("sv_test")
    yield create_database(pg_server_url, name, template=template_database)
    drop_database(pg_server_url, name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The application's own engine (``get_engine()``), pointed at this test's database."""
    dispose_engines()
    configure(database_url=db_url, read_database_url=None)
    yield get_engine()
    dispose_engines()
    reset_settings()
