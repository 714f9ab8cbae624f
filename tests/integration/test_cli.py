"""The `streamvault` CLI against a real database, as a script would call it."""

from __future__ import annotations

import json

import pytest
from streamvault.cli import main
from streamvault.config import reset_settings
from streamvault.db import migrate
from streamvault.db.engine import dispose_engines


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    dispose_engines()
    reset_settings()


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_migrate_seed_stats_check_on_an_empty_database(empty_db_url, capsys):
    code, out = run(capsys, "db", "migrate", "--database-url", empty_db_url, "--json")
    assert (code, out["revision"]) == (0, migrate.head_revision())

    code, out = run(capsys, "db", "check", "--database-url", empty_db_url, "--json")
    assert code == 0 and out["ok"] is True
    assert out["revision"] == out["head"] == migrate.head_revision()
    assert out["database"]["plays_outside_partitions"] == 0

    code, out = run(capsys, "db", "seed", "--creators", "5", "--plays", "500", "--database-url", empty_db_url, "--json")
    assert code == 0
    assert (out["creators"], out["plays"]) == (5, 500)

    code, out = run(capsys, "db", "stats", "--database-url", empty_db_url, "--json")
    tables = {t["table_name"]: t for t in out["tables"]}
    assert code == 0 and tables["plays"]["estimated_rows"] == 500
    assert any(i["index_name"] == "pk_plays" for i in out["indexes"])

    code, out = run(capsys, "db", "maintain", "--months-ahead", "4", "--database-url", empty_db_url, "--json")
    assert code == 0 and out["partitions_created"] == 1


def test_check_fails_on_an_unmigrated_database(empty_db_url, capsys):
    code, out = run(capsys, "db", "check", "--database-url", empty_db_url, "--json")
    assert code == 1
    assert out["connection"]["ok"] is True and out["revision"] is None


def test_check_fails_cleanly_when_the_server_is_unreachable(capsys):
    code, out = run(capsys, "db", "check", "--database-url", "postgresql://x@127.0.0.1:1/none", "--json")
    assert code == 1
    assert out["connection"] == {"ok": False, "latency_ms": out["connection"]["latency_ms"],
                                 "error": "OperationalError"}


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "seed", "--creators", "0"])
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
