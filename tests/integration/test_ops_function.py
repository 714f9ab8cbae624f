"""The ops function: migrations on deploy (a CloudFormation custom resource) and the daily
maintenance (partitions, stored engagement scores), against a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from streamvault.config import configure, reset_settings
from streamvault.db import migrate
from streamvault.db.engine import dispose_engines
from streamvault.local.apigw import LocalContext

from functions.ops.app import lambda_handler
from tests.conftest import fetch
from tests.integration.factories import make_creator, make_track


@pytest.fixture
def empty_database(empty_db_url):
    dispose_engines()
    configure(database_url=empty_db_url)
    yield empty_db_url
    dispose_engines()
    reset_settings()


def test_create_and_update_migrate_to_head_and_delete_keeps_the_schema(empty_database):
    created = lambda_handler({"RequestType": "Create", "ResourceProperties": {}}, LocalContext())
    assert created == {"PhysicalResourceId": "streamvault-schema", "Data": {"Revision": migrate.head_revision()}}
    updated = lambda_handler({"RequestType": "Update", "ResourceProperties": {}}, LocalContext())
    assert updated["Data"]["Revision"] == migrate.head_revision()

    assert lambda_handler({"RequestType": "Delete"}, LocalContext())["Data"] == {"Revision": ""}
    # the data outlives the stack
    assert fetch(empty_database, "SELECT to_regclass('plays') IS NOT NULL AS kept")[0].kept is True


def test_daily_maintenance_creates_the_months_ahead(engine):
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS plays_" + _months_ahead(3)))
    assert lambda_handler({"task": "maintain_partitions"}, LocalContext())["partitions_created"] == 1
    assert lambda_handler({"task": "maintain_partitions"}, LocalContext())["partitions_created"] == 0


def test_daily_maintenance_moves_stored_scores_with_the_90_day_window(engine):
    with engine.begin() as conn:
        creator = make_creator(conn)
        make_track(conn, creator, datetime.now(UTC) - timedelta(days=89, hours=23))  # leaves the window soon
        conn.execute(text("UPDATE creators SET engagement_score = 10 WHERE id = :c"), {"c": creator})  # stale
    assert lambda_handler({"task": "maintain_partitions"}, LocalContext())["scores_refreshed"] == 1  # to 3.33
    with engine.begin() as conn:
        conn.execute(text("UPDATE tracks SET released_at = released_at - interval '1 day' WHERE creator_id = :c"),
                     {"c": creator})  # as if a day had passed
    assert lambda_handler({"task": "maintain_partitions"}, LocalContext())["scores_refreshed"] == 1
    with engine.connect() as conn:
        score = conn.execute(text("SELECT engagement_score FROM creators WHERE id = :c"), {"c": creator}).scalar_one()
    assert score == 0  # no plays, no release in the window
    assert lambda_handler({"task": "maintain_partitions"}, LocalContext())["scores_refreshed"] == 0


def test_unknown_events_are_refused(engine):
    with pytest.raises(ValueError, match="unknown ops event"):
        lambda_handler({"task": "drop_everything"}, LocalContext())


def _months_ahead(months: int) -> str:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    year, month = divmod(now.month - 1 + months, 12)
    return f"{now.year + year}_{month + 1:02d}"
