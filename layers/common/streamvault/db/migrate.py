"""Alembic, driven from code (the CLI, the tests, and the deploy-time migration function)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from streamvault.db.engine import get_engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Monthly partitions of plays are made by a maintenance function, not by migrations.
PARTITION_PREFIXES = ("plays_",)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate filter: the schema the models describe, without the plays partitions."""
    return not (type_ == "table" and name and name.startswith(PARTITION_PREFIXES))


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _run(engine: Engine | None, fn, *args) -> None:
    engine = engine or get_engine()
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        conn.execute(text("SET statement_timeout = 0"))  # DDL on big tables outlasts a request's limit
        cfg.attributes["connection"] = conn
        fn(cfg, *args)
        conn.commit()


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine | None = None, revision: str = "base") -> None:
    _run(engine, command.downgrade, revision)


def current_revision(engine: Engine | None = None) -> str | None:
    with (engine or get_engine()).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
