"""RDS PostgreSQL (encrypted, backed up, Multi-AZ in prod), an optional read replica, RDS Proxy.

Recovery targets (the seed): RPO ≤ 15 min — automated backups ship transaction logs every
~5 minutes, so point-in-time restore reaches to about 5 minutes ago; RTO ≤ 1 h — Multi-AZ fails
over in 1–2 minutes, and a PITR restore of a database this size completes well within the hour.

Clients never hold the password: they connect to the proxy as ``streamvault`` with an IAM auth
token over TLS (``rds-db:connect``); the proxy alone reads the generated credentials secret.
The proxy's init query sets the per-session limits that clients must not set themselves
(a session ``SET`` would pin the client to one database connection).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.components.network import Network
from infra.config import StageConfig

DB_NAME = "streamvault"
DB_USER = "streamvault"
STATEMENT_TIMEOUT_MS = 3_000  # STREAMVAULT_DB_STATEMENT_TIMEOUT_MS' default: a request's limit
LOCK_TIMEOUT_MS = 5_000
INIT_QUERY = (f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}; SET lock_timeout = {LOCK_TIMEOUT_MS}; "
              "SET timezone = 'UTC'")
ENGINE = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16_9)


class Database(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, network: Network,
                 encryption_key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        removal = RemovalPolicy.SNAPSHOT if config.retain_data else RemovalPolicy.DESTROY
        self.parameters = self._parameters()
        self.instance = rds.DatabaseInstance(
            self, "Postgres", engine=ENGINE, instance_type=config.db_instance_type, vpc=network.vpc,
            vpc_subnets=isolated, security_groups=[network.database_sg], database_name=DB_NAME,
            credentials=rds.Credentials.from_generated_secret(DB_USER, encryption_key=encryption_key),
            multi_az=config.multi_az, storage_encrypted=True, storage_encryption_key=encryption_key,
            allocated_storage=config.db_allocated_storage_gib,
            max_allocated_storage=config.db_max_allocated_storage_gib,  # storage autoscaling up to this
            storage_type=rds.StorageType.GP3, backup_retention=Duration.days(config.backup_retention_days),
            deletion_protection=config.deletion_protection, removal_policy=removal, iam_authentication=True,
            enable_performance_insights=True, performance_insight_encryption_key=encryption_key,
            cloudwatch_logs_exports=["postgresql", "upgrade"], cloudwatch_logs_retention=config.log_retention,
            parameter_group=self.parameters, auto_minor_version_upgrade=True, copy_tags_to_snapshot=True,
            preferred_backup_window="03:00-03:30", preferred_maintenance_window="sun:04:00-sun:04:30",
        )
        self.replica = self._replica(config, network, isolated, encryption_key) if config.read_replica else None
        self.proxy = self.instance.add_proxy(
            "Proxy", vpc=network.vpc, vpc_subnets=isolated, security_groups=[network.proxy_sg],
            secrets=[self.instance.secret] if self.instance.secret else [], iam_auth=True, require_tls=True,
            init_query=INIT_QUERY, borrow_timeout=Duration.seconds(10), max_connections_percent=75,
            idle_client_timeout=Duration.minutes(30),
        )

    def _parameters(self) -> rds.ParameterGroup:
        return rds.ParameterGroup(self, "Parameters", engine=ENGINE, parameters={
            "rds.force_ssl": "1",  # TLS on every connection, the proxy's included
            "log_min_duration_statement": "1000",  # statements over 1 s reach the logs
            "idle_in_transaction_session_timeout": "60000",
        })

    def _replica(self, config: StageConfig, network: Network, isolated: ec2.SubnetSelection,
                 encryption_key: kms.IKey) -> rds.DatabaseInstanceReadReplica:
        # RDS Proxy cannot target an RDS (non-Aurora) read replica: functions reach it directly,
        # with the same IAM auth token and TLS (STREAMVAULT_DB_READ_HOST).
        return rds.DatabaseInstanceReadReplica(
            self, "ReadReplica", source_database_instance=self.instance, instance_type=config.db_instance_type,
            vpc=network.vpc, vpc_subnets=isolated, security_groups=[network.database_sg],
            iam_authentication=True,  # storage encryption is the source's: a replica inherits its KMS key
            parameter_group=self.parameters,  # the primary's: rds.force_ssl, not the default group's TLS-optional
            enable_performance_insights=True, performance_insight_encryption_key=encryption_key,
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.DESTROY,  # a replica holds no data of its own
            auto_minor_version_upgrade=True,
        )

    def grant_connect(self, grantee: iam.IGrantable) -> None:
        """IAM auth as the application user: through the proxy, and to the replica when present."""
        self.proxy.grant_connect(grantee, DB_USER)
        if self.replica is not None:
            self.replica.grant_connect(grantee, DB_USER)

    @property
    def read_host(self) -> str | None:
        return self.replica.db_instance_endpoint_address if self.replica else None
