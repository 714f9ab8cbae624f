"""RDS PostgreSQL, its proxy, and where the credentials live."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.infra.conftest import Synth

POSTGRES = "AWS::RDS::DBInstance"


def _primary(synth: Synth) -> dict:
    instances = synth.template.find_resources(POSTGRES, {"Properties": {"Engine": "postgres"}})
    (primary,) = [r for r in instances.values() if "SourceDBInstanceIdentifier" not in r["Properties"]]
    return primary


def test_storage_is_encrypted_with_the_data_key_and_backed_up(dev: Synth) -> None:
    props = _primary(dev)["Properties"]
    assert props["StorageEncrypted"] is True
    assert "Fn::GetAtt" in props["KmsKeyId"]
    assert props["BackupRetentionPeriod"] == 7  # automated backups: PITR, RPO ~5 min
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["EnablePerformanceInsights"] is True
    assert props["PubliclyAccessible"] is False
    assert props["EngineVersion"].startswith("16")


def test_dev_is_cheap_and_disposable(dev: Synth) -> None:
    primary = _primary(dev)
    assert primary["Properties"]["MultiAZ"] is False
    assert primary["Properties"]["DeletionProtection"] is False
    assert primary["DeletionPolicy"] == "Delete"


def test_prod_is_multi_az_protected_and_snapshotted(prod: Synth) -> None:
    primary = _primary(prod)
    assert primary["Properties"]["MultiAZ"] is True
    assert primary["Properties"]["DeletionProtection"] is True
    assert primary["Properties"]["BackupRetentionPeriod"] == 14
    assert primary["DeletionPolicy"] == "Snapshot"


def test_prod_read_replica_when_asked(prod: Synth, dev: Synth) -> None:
    prod.template.has_resource_properties(POSTGRES, {
        "SourceDBInstanceIdentifier": Match.any_value(), "EnableIAMDatabaseAuthentication": True,
    })
    assert len(dev.template.find_resources(POSTGRES)) == 1
    prod.template.has_resource_properties("AWS::Lambda::Function", {
        "FunctionName": "streamvault-prod-api",
        "Environment": {"Variables": Match.object_like({"STREAMVAULT_DB_READ_HOST": Match.any_value()})},
    })


def test_tls_is_forced_by_the_server(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::RDS::DBParameterGroup", {
        "Parameters": Match.object_like({"rds.force_ssl": "1"}),
    })


def test_the_read_replica_forces_tls_too(prod: Synth) -> None:
    instances = prod.template.find_resources(POSTGRES).values()
    (replica,) = [r for r in instances if "SourceDBInstanceIdentifier" in r["Properties"]]
    # the primary's group (rds.force_ssl), not the engine's default one
    assert replica["Properties"]["DBParameterGroupName"] == _primary(prod)["Properties"]["DBParameterGroupName"]
    (group,) = prod.template.find_resources("AWS::RDS::DBParameterGroup").values()
    assert group["Properties"]["Parameters"]["rds.force_ssl"] == "1"


def test_proxy_requires_iam_auth_and_tls(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::RDS::DBProxy", {
        "RequireTLS": True, "EngineFamily": "POSTGRESQL",
        "Auth": [Match.object_like({"AuthScheme": "SECRETS", "IAMAuth": "REQUIRED"})],
    })


def test_proxy_init_query_sets_the_request_limits(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::RDS::DBProxyTargetGroup", {
        "ConnectionPoolConfigurationInfo": Match.object_like({
            "InitQuery": Match.string_like_regexp(r"statement_timeout = 3000.*lock_timeout = 5000.*timezone = 'UTC'"),
        }),
    })


def test_no_function_holds_a_database_password(dev: Synth) -> None:
    for fn in dev.template.find_resources("AWS::Lambda::Function").values():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert "DATABASE_URL" not in variables
        assert not any("PASSWORD" in name for name in variables)


def test_every_function_connects_as_the_app_user_with_iam(dev: Synth) -> None:
    connect = [
        s for p in dev.template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "rds-db:connect"
    ]
    assert len(connect) == 6  # api, authorizer, ingest, oracle_sync, milestones, ops
