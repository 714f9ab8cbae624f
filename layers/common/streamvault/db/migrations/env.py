"""Alembic environment: runs on a connection handed in by ``streamvault.db.migrate``."""

from alembic import context
from sqlalchemy import Connection
from streamvault.db.migrate import include_object
from streamvault.db.models import Base


def run_migrations_online() -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        from streamvault.db.engine import get_engine

        with get_engine().connect() as conn:
            _run(conn)
            conn.commit()
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `streamvault db migrate`")
run_migrations_online()
