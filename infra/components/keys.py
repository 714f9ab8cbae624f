"""KMS keys and Secrets Manager secrets.

- ``data_key`` (symmetric, rotated yearly): wraps the wallets' data keys, and encrypts the
  database storage, Performance Insights, the alarm topic and the secrets.
- ``queue_key`` (symmetric, rotated yearly): the SQS queues'. Their producers and consumers
  (ingest, oracle_sync) need kms:Decrypt/GenerateDataKey on it; on the data key they would be
  able to unwrap wallet data keys.
- ``signer_key`` (``ECC_SECG_P256K1``, SIGN_VERIFY): the oracle's Ethereum key. The private key
  never leaves KMS; only the chain writers' roles (oracle_sync, milestones) may sign (functions.py).
- ``rpc_url``: the FEVM JSON-RPC URL (it often embeds a provider token), set after deploy.
- ``ua_hash_key``: 64 hex characters, the HMAC key for user agents (ingestion).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from infra.config import StageConfig

# The generator has no hex option: every printable ASCII character but 0-9a-f is excluded.
_NOT_HEX = "".join(chr(c) for c in range(33, 127) if chr(c) not in "0123456789abcdef")


class Keys(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.data_key = kms.Key(
            self, "DataKey", alias=f"alias/streamvault-{config.stage}-data", enable_key_rotation=True,
            description="StreamVault: wallet data keys, RDS, SNS, secrets", removal_policy=removal,
        )
        # CloudWatch alarms publish to the encrypted topic: they need the key to encrypt.
        self.data_key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.queue_key = kms.Key(
            self, "QueueKey", alias=f"alias/streamvault-{config.stage}-queues", enable_key_rotation=True,
            description="StreamVault: SQS queues (ingest buffer, oracle retry)", removal_policy=removal,
        )
        self.signer_key = kms.Key(
            self, "SignerKey", alias=f"alias/streamvault-{config.stage}-oracle-signer",
            key_spec=kms.KeySpec.ECC_SECG_P256K1, key_usage=kms.KeyUsage.SIGN_VERIFY,
            description="StreamVault oracle transaction signer (secp256k1); losing it loses the ORACLE_ROLE account",
            removal_policy=RemovalPolicy.RETAIN,  # the on-chain role is bound to this key's address
        )
        self.rpc_url = sm.Secret(
            self, "RpcUrl", secret_name=f"streamvault/{config.stage}/rpc-url", encryption_key=self.data_key,
            description="FEVM JSON-RPC URL (set after deploy: docs/deploy.md)", removal_policy=removal,
        )
        self.ua_hash_key = sm.Secret(
            self, "UaHashKey", secret_name=f"streamvault/{config.stage}/ua-hash-key", encryption_key=self.data_key,
            description="HMAC-SHA256 key for user agents (ingestion), 64 hex characters", removal_policy=removal,
            generate_secret_string=sm.SecretStringGenerator(
                password_length=64, exclude_characters=_NOT_HEX, include_space=False,
            ),
        )
