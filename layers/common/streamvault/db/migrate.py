"""Alembic, driven from code (the CLI, the tests, and the deploy-time migration function)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
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


def resolve_revision(revision: str) -> str | None:
    """The full id that ``revision`` names (an id, a unique prefix of one, ``head``), None for ``base``.

    CommandError for anything else, relative steps such as ``-1`` included: they depend on where
    the database happens to be, and a rollback must name its target.
    """
    if revision == "base":
        return None
    script = ScriptDirectory.from_config(alembic_config()).get_revision(revision) if revision else None
    if script is None:
        raise CommandError(f"Can't locate revision identified by {revision!r}")
    return script.revision


def is_below_current(revision: str, engine: Engine | None = None) -> bool:
    """Whether ``revision`` lies below the database's revision, where upgrading to it does nothing."""
    current = current_revision(engine)
    try:
        target = resolve_revision(revision)
    except CommandError:
        return False  # a relative step or a typo: upgrade itself deals with it
    if current is None or target == current:
        return False
    below = ScriptDirectory.from_config(alembic_config()).iterate_revisions(current, "base")
    return target is None or target in {script.revision for script in below}


def current_revision(engine: Engine | None = None) -> str | None:
    with (engine or get_engine()).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
