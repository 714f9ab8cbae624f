"""`streamvault keys …` against a real database: create (shown once), list (never secrets), revoke."""

from __future__ import annotations

import base64
import getpass
import json
import os

import pytest
from streamvault.api_keys import hash_key
from streamvault.cli import main
from streamvault.config import reset_settings
from streamvault.db.engine import dispose_engines

from tests.conftest import fetch


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    dispose_engines()
    reset_settings()


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def run_json(capsys, db_url: str, *argv: str) -> tuple[int, object]:
    code, out = run(capsys, *argv, "--database-url", db_url, "--json")
    return code, json.loads(out)


def stored_hashes(db_url: str) -> dict[str, bytes]:
    return {str(r.id): bytes(r.key_hash) for r in fetch(db_url, "SELECT id, key_hash FROM api_keys")}


def test_create_shows_the_key_once_and_stores_only_its_hash(db_url, capsys):
    code, created = run_json(capsys, db_url, "keys", "create", "--scope", "read, ingest", "--name", "partner",
                             "--rate", "5", "--burst", "10")
    assert code == 0
    assert set(created) == {"key", "id", "scopes"}
    assert created["key"].startswith("sv_") and created["scopes"] == ["ingest", "read"]
    assert stored_hashes(db_url) == {created["id"]: hash_key(created["key"])}

    code, listed = run_json(capsys, db_url, "keys", "list")
    assert code == 0 and [k["id"] for k in listed] == [created["id"]]
    assert (listed[0]["name"], listed[0]["rate_limit_per_s"], listed[0]["burst"]) == ("partner", 5, 10)
    assert listed[0]["key_prefix"] == created["key"][:9]
    assert created["key"] not in json.dumps(listed)
    assert not any("hash" in field for field in listed[0])


def test_text_output_says_the_key_is_shown_once(db_url, capsys):
    code, out = run(capsys, "keys", "create", "--scope", "admin", "--name", "ops", "--database-url", db_url)
    assert code == 0 and "shown this once" in out
    key_line = next(line for line in out.splitlines() if line.startswith("sv_"))

    code, out = run(capsys, "keys", "list", "--database-url", db_url)
    assert code == 0 and "ops" in out and key_line[:9] in out
    assert key_line not in out


def test_revoke_hides_the_key_from_list_unless_all(db_url, capsys):
    _, kept = run_json(capsys, db_url, "keys", "create", "--scope", "read", "--name", "kept")
    _, gone = run_json(capsys, db_url, "keys", "create", "--scope", "read", "--name", "gone")

    code, out = run_json(capsys, db_url, "keys", "revoke", gone["id"])
    assert (code, out) == (0, {"id": gone["id"], "revoked": True})
    code, out = run_json(capsys, db_url, "keys", "revoke", gone["id"])  # already revoked
    assert (code, out) == (1, {"id": gone["id"], "revoked": False})

    _, live = run_json(capsys, db_url, "keys", "list")
    assert [k["id"] for k in live] == [kept["id"]]
    _, everything = run_json(capsys, db_url, "keys", "list", "--all")
    revoked = {k["id"]: k["revoked_at"] is not None for k in everything}
    assert revoked == {kept["id"]: False, gone["id"]: True}


def test_revoking_an_unknown_key_fails(db_url, capsys):
    code, out = run(capsys, "keys", "revoke", "00000000-0000-0000-0000-000000000000", "--database-url", db_url)
    assert code == 1 and "no live API key" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["keys", "create", "--scope", "read,write", "--name", "x"], "scopes must be a non-empty subset"),
    (["keys", "create", "--scope", ",", "--name", "x"], "scopes must be a non-empty subset"),
    (["keys", "create", "--scope", "read"], "--name"),
    (["keys", "create", "--scope", "read", "--name", "x", "--rate", "0"], "must be at least 1"),
    (["keys", "revoke", "not-a-uuid"], "invalid UUID"),
])
def test_bad_arguments_exit_2_with_a_clear_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_keys_join_and_leave_the_usage_plan_that_throttles_them_in_aws(db_url, capsys, monkeypatch):
    import boto3
    from moto import mock_aws

    with mock_aws():
        gateway = boto3.client("apigateway", region_name="eu-west-1")
        plan_id = gateway.create_usage_plan(name="streamvault-test-default")["id"]
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.setenv("STREAMVAULT_API_USAGE_PLAN_ID", plan_id)

        code, created = run_json(capsys, db_url, "keys", "create", "--scope", "read", "--name", "partner")
        assert code == 0
        [api_key] = gateway.get_api_keys(includeValues=True)["items"]
        # API Gateway knows the key by its id (what the authorizer names), never by its secret
        assert (api_key["name"], api_key["value"], api_key["enabled"]) == (
            f"streamvault-{created['id']}", created["id"], True)
        assert [k["id"] for k in gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]] == [api_key["id"]]

        code, _ = run_json(capsys, db_url, "keys", "revoke", created["id"])
        assert code == 0
        assert gateway.get_api_key(apiKey=api_key["id"])["enabled"] is False


def audit_rows(db_url: str) -> list[dict]:
    return [dict(r._mapping) for r in fetch(db_url, "SELECT * FROM audit_log ORDER BY id")]


def test_create_and_revoke_are_audited_without_the_key_or_its_hash(db_url, capsys, monkeypatch):
    monkeypatch.setenv("LOGNAME", "alice")  # what getpass.getuser() reads first
    _, created = run_json(capsys, db_url, "keys", "create", "--scope", "read,ingest", "--name", "partner",
                          "--rate", "5")
    assert run_json(capsys, db_url, "keys", "revoke", created["id"])[0] == 0
    assert run_json(capsys, db_url, "keys", "revoke", created["id"])[0] == 1  # nothing revoked: no row

    described = {"name": "partner", "scopes": ["ingest", "read"], "rate_limit_per_s": 5, "burst": None}
    rows = audit_rows(db_url)
    assert [(r["actor"], r["action"], r["entity_type"], r["entity_id"], r["before"], r["after"]) for r in rows] == [
        ("cli:alice", "api_key.create", "api_key", created["id"], None, {**described, "revoked": False}),
        ("cli:alice", "api_key.revoke", "api_key", created["id"], {**described, "revoked": False},
         {**described, "revoked": True}),
    ]
    digest = hash_key(created["key"])
    stored = json.dumps(rows, default=str)
    for secret in (created["key"], created["key"][:9], digest.hex(), base64.b64encode(digest).decode()):
        assert secret not in stored


def test_the_cli_actor_falls_back_to_the_uid_without_a_user_name(monkeypatch):
    from streamvault.cli import _cli_actor

    def no_user() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert _cli_actor() == f"cli:uid-{os.getuid()}"


@pytest.mark.parametrize("limits", [["--rate", "5"], ["--burst", "10"], ["--rate", "50", "--burst", "99"]])
def test_own_limits_are_refused_when_aws_would_apply_the_usage_plans(db_url, capsys, monkeypatch, limits):
    import streamvault.api.usage_plans

    def no_aws():
        raise AssertionError("refused before any AWS call")

    monkeypatch.setattr(streamvault.api.usage_plans, "_client", no_aws)
    monkeypatch.setenv("STREAMVAULT_API_USAGE_PLAN_ID", "plan123")
    monkeypatch.setenv("STREAMVAULT_API_RATE_LIMIT_PER_S", "50")
    monkeypatch.setenv("STREAMVAULT_API_BURST", "100")

    code = main(["keys", "create", "--scope", "read", "--name", "partner", *limits, "--database-url", db_url])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert "in AWS every key gets the usage plan's limits" in err and "plan123" in err
    assert stored_hashes(db_url) == {} and audit_rows(db_url) == []


def test_limits_equal_to_the_usage_plans_are_accepted_in_aws(db_url, capsys, monkeypatch):
    import boto3
    from moto import mock_aws

    with mock_aws():
        gateway = boto3.client("apigateway", region_name="eu-west-1")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.setenv("STREAMVAULT_API_USAGE_PLAN_ID", gateway.create_usage_plan(name="default")["id"])
        code, created = run_json(capsys, db_url, "keys", "create", "--scope", "read", "--name", "partner",
                                 "--rate", "50", "--burst", "100")
    assert code == 0 and list(stored_hashes(db_url)) == [created["id"]]
