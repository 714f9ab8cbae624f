"""Migrations: upgrade and downgrade both work, and the models match the migrated schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from streamvault.db import migrate
from streamvault.db.engine import psycopg_url
from streamvault.db.migrate import include_object
from streamvault.db.models import Base

SEED_TABLES = {
    "users", "creators", "follows", "tracks", "playlists", "playlist_entries", "plays", "likes", "comments",
    "creator_milestones", "oracle_sync_logs", "revenue_distributions", "daily_stats", "creator_daily_stats",
    "audit_log",
}


def test_upgrade_downgrade_upgrade(empty_db_url):
    engine = create_engine(psycopg_url(empty_db_url))
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert tables >= SEED_TABLES
        assert {"plays_default"} <= tables  # the catch-all partition

        migrate.downgrade(engine)
        assert migrate.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        with engine.connect() as conn:
            functions = conn.execute(
                text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'streamvault%'")
            ).scalar_one()
        assert functions == 0

        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_models_match_migrated_schema(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
