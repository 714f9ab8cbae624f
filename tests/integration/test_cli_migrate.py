"""`streamvault db migrate` and `db downgrade`: a rollback names its target, and base needs a confirmation."""

from __future__ import annotations

import json

import pytest
from streamvault.cli import main
from streamvault.config import reset_settings
from streamvault.db import migrate
from streamvault.db.engine import dispose_engines

from tests.conftest import fetch


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    dispose_engines()
    reset_settings()


def run(capsys, db_url: str, *argv: str) -> tuple[int, dict | None, str]:
    code = main([*argv, "--database-url", db_url, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def schema_version(db_url: str) -> list[str]:
    """alembic_version as stored, read without the application's code."""
    return [r.version_num for r in fetch(db_url, "SELECT version_num FROM alembic_version")]


def previous_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config()).get_revision("head").down_revision


def test_downgrade_to_the_previous_revision_and_upgrade_again(empty_db_url, capsys):
    head, previous = migrate.head_revision(), previous_revision()
    assert run(capsys, empty_db_url, "db", "migrate")[:2] == (0, {"revision": head})

    code, out, _ = run(capsys, empty_db_url, "db", "downgrade", "--revision", previous)
    assert (code, out) == (0, {"from": head, "revision": previous})
    assert schema_version(empty_db_url) == [previous]

    assert run(capsys, empty_db_url, "db", "migrate")[:2] == (0, {"revision": head})
    assert schema_version(empty_db_url) == [head]


@pytest.mark.parametrize("older", ["previous", "base"])
def test_migrate_to_an_older_revision_points_at_downgrade(db_url, capsys, older):
    # Alembic itself would do nothing and succeed: the old rollback advice in docs/deploy.md
    revision = previous_revision() if older == "previous" else older
    code, out, err = run(capsys, db_url, "db", "migrate", "--revision", revision)
    assert (code, out) == (2, None) and f"streamvault db downgrade --revision {revision}" in err
    assert schema_version(db_url) == [migrate.head_revision()]


def test_downgrade_to_base_needs_drop_everything(db_url, capsys):
    code, out, err = run(capsys, db_url, "db", "downgrade", "--revision", "base")
    assert (code, out) == (2, None) and "--drop-everything" in err
    assert schema_version(db_url) == [migrate.head_revision()]

    code, out, _ = run(capsys, db_url, "db", "downgrade", "--revision", "base", "--drop-everything")
    assert (code, out) == (0, {"from": migrate.head_revision(), "revision": None})
    assert schema_version(db_url) == []


@pytest.mark.parametrize("revision", ["-1", "nonesuch", ""])
def test_downgrade_refuses_relative_or_unknown_revisions(db_url, capsys, revision):
    code, out, err = run(capsys, db_url, "db", "downgrade", "--revision", revision)
    assert (code, out) == (2, None) and "Can't locate revision" in err
    assert schema_version(db_url) == [migrate.head_revision()]


def test_downgrade_refuses_a_revision_above_the_database(empty_db_url, capsys):
    previous = previous_revision()
    assert run(capsys, empty_db_url, "db", "migrate", "--revision", previous)[0] == 0
    code, out, err = run(capsys, empty_db_url, "db", "downgrade", "--revision", "head")
    assert (code, out) == (2, None) and err.startswith("streamvault db downgrade:")
    assert schema_version(empty_db_url) == [previous]


def test_downgrade_has_no_default_revision(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "downgrade"])
    assert exit_info.value.code == 2
    assert "--revision" in capsys.readouterr().err
