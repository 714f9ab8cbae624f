"""Lambdas: platform, sizing, concurrency, tracing, environment, and who may use which key."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from infra.components.functions import SPECS
from tests.infra.conftest import RPC_URL_VERSION, Synth


def _functions(synth: Synth) -> dict[str, dict]:
    found = synth.template.find_resources("AWS::Lambda::Function", {
        "Properties": {"FunctionName": Match.string_like_regexp("^streamvault-dev-")},
    })
    return {r["Properties"]["FunctionName"].removeprefix("streamvault-dev-"): r["Properties"] for r in found.values()}


def _statements(synth: Synth) -> list[dict]:
    return [s for p in synth.template.find_resources("AWS::IAM::Policy").values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_every_function_is_declared_on_arm64_with_the_layer_and_tracing(dev: Synth) -> None:
    fns = _functions(dev)
    assert set(fns) == {"api", "authorizer", "ingest", "oracle-sync", "milestones", "ops"}
    for props in fns.values():
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"] == "python3.12"
        assert props["Handler"] == "app.lambda_handler"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert len(props["Layers"]) == 1
        assert props["VpcConfig"]["SubnetIds"]
        assert "KmsKeyArn" in props  # the environment is encrypted with the data key


def test_memory_timeouts_and_reserved_concurrency(dev: Synth) -> None:
    fns = _functions(dev)
    for name, spec in SPECS.items():
        props = fns[name.replace("_", "-")]
        assert (props["MemorySize"], props["Timeout"]) == (spec.memory_mb, spec.timeout_s)
    assert fns["oracle-sync"]["ReservedConcurrentExecutions"] == 1  # never races itself on nonces
    assert "ReservedConcurrentExecutions" not in fns["api"]


def test_functions_reach_the_database_through_the_proxy_with_tls(dev: Synth) -> None:
    for props in _functions(dev).values():
        env = props["Environment"]["Variables"]
        assert env["STREAMVAULT_DB_HOST"]["Fn::GetAtt"][1] == "Endpoint"  # the proxy's
        assert env["STREAMVAULT_DB_IAM_AUTH"] == "true"
        assert env["STREAMVAULT_DB_SSLMODE"] == "verify-full"
        assert env["STREAMVAULT_STAGE"] == "dev"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "StreamVault"


def test_oracle_environment_queues_and_kms_signer(dev: Synth) -> None:
    env = _functions(dev)["oracle-sync"]["Environment"]["Variables"]
    assert env["STREAMVAULT_ORACLE_SIGNER"] == "kms"
    assert env["STREAMVAULT_EVENTS_BUS_NAME"] == "default"
    for name in ("STREAMVAULT_ORACLE_SIGNER_KMS_KEY_ID", "STREAMVAULT_ORACLE_RETRY_QUEUE_URL",
                 "STREAMVAULT_ORACLE_DLQ_URL", "STREAMVAULT_CHAIN_RPC_URL"):
        assert name in env
    assert "resolve:secretsmanager" in str(env["STREAMVAULT_CHAIN_RPC_URL"])


def test_ingest_environment(dev: Synth) -> None:
    env = _functions(dev)["ingest"]["Environment"]["Variables"]
    assert "STREAMVAULT_INGEST_BUFFER_QUEUE_URL" in env
    assert "resolve:secretsmanager" in str(env["STREAMVAULT_UA_HASH_KEY"])


def test_signer_key_is_secp256k1_sign_only(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::KMS::Key", {
        "KeySpec": "ECC_SECG_P256K1", "KeyUsage": "SIGN_VERIFY",
    })
    dev.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})  # the data key


def test_only_the_chain_writers_may_sign(dev: Synth) -> None:
    signers = [s for s in _statements(dev) if "kms:Sign" in _actions(s)]
    assert len(signers) == 2
    assert all(set(_actions(s)) == {"kms:Sign", "kms:GetPublicKey"} for s in signers)
    policies = dev.template.find_resources("AWS::IAM::Policy", {"Properties": {"PolicyDocument": {
        "Statement": Match.array_with([Match.object_like({"Action": Match.array_with(["kms:Sign"])})])}}})
    roles = sorted(p["Properties"]["Roles"][0]["Ref"].split("ServiceRole")[0] for p in policies.values())
    assert roles == ["FunctionsMilestones", "FunctionsOracleSync"]
    (signer,) = dev.template.find_resources("AWS::KMS::Key", {"Properties": {"KeySpec": "ECC_SECG_P256K1"}}).values()
    (deny,) = [s for s in signer["Properties"]["KeyPolicy"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Action"] == "kms:Sign"
    assert len(deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == 2


def _data_key(synth: Synth) -> str:
    return synth.stack.get_logical_id(synth.stack.keys.data_key.node.default_child)  # type: ignore[arg-type]


def _kms_grants_on(synth: Synth, key: str) -> dict[str, set[str]]:
    """The kms actions each role's policies allow on the key (by its logical id); "*" counts too."""
    grants: dict[str, set[str]] = {}
    for policy in synth.template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            kms_actions = {a for a in _actions(statement) if a.startswith("kms:") or a == "*"}
            if kms_actions and (key in json.dumps(statement["Resource"]) or statement["Resource"] == "*"):
                for role in policy["Properties"]["Roles"]:
                    grants.setdefault(role["Ref"].split("ServiceRole")[0], set()).update(kms_actions)
    return grants


def test_wallet_data_key_is_granted_to_wallet_users_only(dev: Synth) -> None:
    grants = _kms_grants_on(dev, _data_key(dev))
    (proxy,) = [role for role in grants if role.startswith("DatabasePostgresProxyIAMRole")]
    assert grants.pop(proxy) == {"kms:Decrypt"}  # RDS Proxy reads the master credentials' secret
    # The API wraps wallets' data keys (admin writes wallets), the milestones unwrap them; no one else.
    assert grants == {"FunctionsApi": {"kms:GenerateDataKey", "kms:Decrypt"}, "FunctionsMilestones": {"kms:Decrypt"}}


def test_queue_users_get_no_access_to_the_wallet_data_key(dev: Synth) -> None:
    data_key = _data_key(dev)
    grants = _kms_grants_on(dev, data_key)
    assert "FunctionsIngest" not in grants and "FunctionsOracleSync" not in grants
    (key_policy,) = [k["Properties"]["KeyPolicy"] for ref, k in dev.template.find_resources("AWS::KMS::Key").items()
                     if ref == data_key]
    assert "FunctionsIngest" not in json.dumps(key_policy) and "FunctionsOracleSync" not in json.dumps(key_policy)
    # the queues' own key, rotated, is the one they use
    queue_key = dev.stack.get_logical_id(dev.stack.keys.queue_key.node.default_child)  # type: ignore[arg-type]
    assert queue_key != data_key
    assert dev.template.to_json()["Resources"][queue_key]["Properties"]["EnableKeyRotation"] is True
    for queue in dev.template.find_resources("AWS::SQS::Queue").values():
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [queue_key, "Arn"]}
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= _kms_grants_on(dev, queue_key)["FunctionsIngest"]


def test_layer_is_built_for_arm64(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::Lambda::LayerVersion", {
        "CompatibleArchitectures": ["arm64"], "CompatibleRuntimes": ["python3.12"],
    })


def test_log_groups_have_retention(dev: Synth, prod: Synth) -> None:
    for group in dev.template.find_resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 14
    for group in prod.template.find_resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 90


def test_each_function_logs_to_the_group_named_as_lambda_would(dev: Synth) -> None:
    groups = dev.template.find_resources("AWS::Logs::LogGroup")
    for name, props in _functions(dev).items():
        group = groups[props["LoggingConfig"]["LogGroup"]["Ref"]]
        # where docs/runbook.md tells operators to look
        assert group["Properties"]["LogGroupName"] == f"/aws/lambda/streamvault-dev-{name}"


def test_api_may_read_every_queue_depth_and_nothing_else_of_them(dev: Synth) -> None:
    queues = dev.template.find_resources("AWS::SQS::Queue")
    env = json.dumps(_functions(dev)["api"]["Environment"]["Variables"]["STREAMVAULT_HEALTH_QUEUE_URLS"])
    for name in ("ingest-buffer", "ingest-buffer-dlq", "oracle-retry", "oracle-retry-dlq"):
        assert f'\\"{name}\\"' in env  # a JSON key of the document
    assert {ref for ref in queues if ref in env} == set(queues)  # each queue's URL
    policies = dev.template.find_resources("AWS::IAM::Policy", {"Properties": {
        "Roles": [{"Ref": Match.string_like_regexp("FunctionsApiServiceRole")}]}})
    sqs = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
           if any(a.startswith("sqs:") for a in _actions(s))]
    assert {a for s in sqs for a in _actions(s)} == {"sqs:GetQueueAttributes"}
    resources = [r for s in sqs for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert {r["Fn::GetAtt"][0] for r in resources} == set(queues)


def test_a_rotated_secret_reaches_the_functions_through_its_version(dev: Synth, prod: Synth) -> None:
    # An unversioned reference reads the same after put-secret-value: nothing would update.
    rotated = json.dumps(prod.template.find_resources("AWS::Lambda::Function", {"Properties": {
        "FunctionName": "streamvault-prod-oracle-sync"}}))
    assert f":SecretString:::{RPC_URL_VERSION}}}}}" in rotated
    current = json.dumps(_functions(dev)["oracle-sync"]["Environment"]["Variables"]["STREAMVAULT_CHAIN_RPC_URL"])
    assert ":SecretString:::}}" in current  # no version given: the current one
