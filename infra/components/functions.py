"""The Lambda functions: one role each, sized and limited per job.

arm64 (Graviton): ~20 % cheaper per GB-second than x86_64 and as fast or faster for this
pure-Python + psycopg workload; every dependency ships manylinux aarch64 wheels, so the layer
builds without Docker on any machine. Python 3.12: the newest runtime whose wheels were checked
for every dependency (the code targets 3.11+).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, SecretValue
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import layer_build
from infra.components.database import DB_NAME, DB_USER, Database
from infra.components.keys import Keys
from infra.components.layer import ARCHITECTURE, RUNTIME
from infra.components.network import Network
from infra.config import StageConfig

ROOT = Path(__file__).resolve().parents[2]
# The layer's CA bundle: the Amazon roots RDS Proxy chains to, and RDS' CAs for a read replica.
CA_BUNDLE = f"/opt/python/{layer_build.CA_BUNDLE}"
NAMESPACE = "StreamVault"
# The functions that send transactions with the KMS signer (one address, one nonce sequence).
CHAIN_WRITERS = ("oracle_sync", "milestones")


@dataclass(frozen=True)
class FunctionSpec:
    source: Path
    memory_mb: int
    timeout_s: int
    reserved: int | None = None  # None: scales with demand
    description: str = ""


SPECS: dict[str, FunctionSpec] = {
    # Read paths: enough memory for a fast cold start (CPU scales with memory).
    "api": FunctionSpec(ROOT / "functions/api", 1024, 10, description="read and admin API"),
    "authorizer": FunctionSpec(ROOT / "functions/authorizer", 512, 5, description="x-api-key authorizer"),
    # 29 s is API Gateway's integration limit; the ingest buffer's visibility timeout is 6× this.
    "ingest": FunctionSpec(ROOT / "functions/ingest", 1024, 29, description="event ingestion + buffer replay"),
    # One at a time: nonces are allocated per signer and a second run would only contend for them.
    "oracle_sync": FunctionSpec(ROOT / "functions/oracle_sync", 1024, 300, reserved=1,
                                description="hourly oracle sync + retry queue consumer"),
    "milestones": FunctionSpec(ROOT / "functions/milestones", 512, 300, reserved=1,
                               description="milestone sweep + quarterly revenue distribution"),
    # Migrations on deploy and the daily partition maintenance; DDL may outlast a request's limit.
    "ops": FunctionSpec(ROOT / "functions/ops", 512, 900, reserved=1, description="migrations + partition maintenance"),
}


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, network: Network,
                 database: Database, keys: Keys, layer: lambda_.ILayerVersion) -> None:
        super().__init__(scope, construct_id)
        self._config, self._network, self._keys, self._layer = config, network, keys, layer
        self._common_env = {
            "STREAMVAULT_STAGE": config.stage,
            "STREAMVAULT_DB_HOST": database.proxy.endpoint,
            "STREAMVAULT_DB_NAME": DB_NAME, "STREAMVAULT_DB_USER": DB_USER, "STREAMVAULT_DB_IAM_AUTH": "true",
            "STREAMVAULT_DB_SSLMODE": "verify-full", "STREAMVAULT_DB_SSLROOTCERT": CA_BUNDLE,
            "STREAMVAULT_CHAIN_ID": str(config.chain_id),
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE, "POWERTOOLS_LOG_LEVEL": "INFO",
            # Responses may carry personal data: keep them out of the traces.
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        }
        self.by_name: dict[str, lambda_.Function] = {name: self._function(name, spec) for name, spec in SPECS.items()}
        for fn in self.by_name.values():
            database.grant_connect(fn)
        self._wire_specifics(database)

    def _function(self, name: str, spec: FunctionSpec) -> lambda_.Function:
        function_name = f"streamvault-{self._config.stage}-{name.replace('_', '-')}"
        log_group = logs.LogGroup(
            # Lambda's own naming, where docs/runbook.md sends operators (a generated name would be random).
            self, f"{name}Logs", log_group_name=f"/aws/lambda/{function_name}", retention=self._config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if self._config.retain_data else RemovalPolicy.DESTROY,
        )
        return lambda_.Function(
            self, _pascal(name), function_name=function_name,
            description=spec.description, runtime=RUNTIME, architecture=ARCHITECTURE,
            handler="app.lambda_handler",
            code=lambda_.Code.from_asset(str(spec.source), exclude=["README.md", "__pycache__"]),
            layers=[self._layer], memory_size=spec.memory_mb, timeout=Duration.seconds(spec.timeout_s),
            reserved_concurrent_executions=spec.reserved, tracing=lambda_.Tracing.ACTIVE,
            environment=dict(self._common_env),
            environment_encryption=self._keys.data_key, log_group=log_group,
            vpc=self._network.vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self._network.functions_sg],
        )

    def _wire_specifics(self, database: Database) -> None:
        fns, keys, config = self.by_name, self._keys, self._config
        if database.read_host:
            fns["api"].add_environment("STREAMVAULT_DB_READ_HOST", database.read_host)
        for name in ("api", "milestones"):  # creators' wallets: envelope encryption under the data key
            fns[name].add_environment("STREAMVAULT_WALLET_KMS_KEY_ID", keys.data_key.key_arn)
            if config.wallet_index_key_ciphertext:
                fns[name].add_environment("STREAMVAULT_WALLET_INDEX_KEY_CIPHERTEXT", config.wallet_index_key_ciphertext)
        keys.data_key.grant(fns["api"], "kms:GenerateDataKey", "kms:Decrypt")
        keys.data_key.grant(fns["milestones"], "kms:Decrypt")
        # The UA hash key is resolved at deploy time into the (KMS-encrypted) environment: the
        # settings read the environment only, and ingestion must not wait on Secrets Manager.
        fns["ingest"].add_environment("STREAMVAULT_UA_HASH_KEY",
                                      _resolved(keys.ua_hash_key, config.ua_hash_key_version))
        for name in CHAIN_WRITERS:
            self._chain_environment(fns[name])
        # The oracle announces finished runs on the default bus; a rule there wakes the milestones.
        fns["oracle_sync"].add_environment("STREAMVAULT_EVENTS_BUS_NAME", "default")
        events.EventBus.from_event_bus_name(self, "DefaultBus", "default").grant_put_events_to(fns["oracle_sync"])
        self._grant_signer([fns[name] for name in CHAIN_WRITERS])

    def _chain_environment(self, fn: lambda_.Function) -> None:
        fn.add_environment("STREAMVAULT_CHAIN_RPC_URL", _resolved(self._keys.rpc_url, self._config.rpc_url_version))
        contracts = {"STREAMVAULT_ORACLE_CONTRACT_ADDRESS": self._config.oracle_contract_address,
                     "STREAMVAULT_COIN_FACTORY_ADDRESS": self._config.coin_factory_address,
                     "STREAMVAULT_REVENUE_DISTRIBUTOR_ADDRESS": self._config.revenue_distributor_address}
        for name, address in contracts.items():
            if address:
                fn.add_environment(name, address)

    def _grant_signer(self, writers: list[lambda_.Function]) -> None:
        """The signing key is usable by the chain-writing functions' roles and nothing else. Both
        send from the same address; `chain_nonces` allocates its nonces under a row lock."""
        signer = self._keys.signer_key
        for fn in writers:
            fn.add_environment("STREAMVAULT_ORACLE_SIGNER", "kms")
            fn.add_environment("STREAMVAULT_ORACLE_SIGNER_KMS_KEY_ID", signer.key_arn)
            signer.grant(fn, "kms:Sign", "kms:GetPublicKey")
        signer.add_to_resource_policy(iam.PolicyStatement(
            sid="SignOnlyAsTheChainWriters", effect=iam.Effect.DENY, actions=["kms:Sign"], resources=["*"],
            principals=[iam.AnyPrincipal()],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": [fn.role.role_arn for fn in writers if fn.role]}},
        ))


def _resolved(secret: secretsmanager.ISecret, version: str | None) -> str:
    """The secret's value at deploy time: its current one, or the version named."""
    return SecretValue.secrets_manager(secret.secret_arn, version_id=version).unsafe_unwrap()


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
