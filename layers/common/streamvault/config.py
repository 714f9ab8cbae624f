"""The one settings module: nothing else in the project reads ``os.environ``.

Every value comes from an environment variable prefixed ``STREAMVAULT_`` (or the bare
names that AWS and the README use: ``DATABASE_URL``, ``READ_DATABASE_URL``, ``AWS_REGION``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STREAMVAULT_", extra="ignore", frozen=True, populate_by_name=True)

    stage: Literal["local", "dev", "prod"] = "local"

    # --- database: either a plain URL, or RDS Proxy + IAM auth + TLS -----------------
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "STREAMVAULT_DATABASE_URL")
    )
    read_database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("READ_DATABASE_URL", "STREAMVAULT_READ_DATABASE_URL")
    )
    db_host: str | None = None  # the RDS Proxy endpoint
    db_read_host: str | None = None  # the read replica's endpoint, when one exists (reached directly)
    db_port: int = 5432
    db_name: str = "streamvault"
    db_user: str = "streamvault"
    db_iam_auth: bool = True
    db_sslmode: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = "verify-full"
    db_sslrootcert: str | None = None  # the RDS CA bundle shipped in the layer
    db_connect_timeout_s: int = Field(default=5, ge=1, le=60)
    # Every request's limit (API reads answer within it); longer jobs (admin erasure, the oracle,
    # migrations, the seed) raise it for their own transaction with `transaction(statement_timeout_ms=…)`.
    db_statement_timeout_ms: int = Field(default=3_000, ge=100, le=900_000)
    db_lock_timeout_ms: int = Field(default=5_000, ge=100, le=900_000)
    # One Lambda container serves one request at a time: a tiny pool, and RDS Proxy pools for us.
    db_pool_size: int = Field(default=1, ge=1, le=50)
    db_max_overflow: int = Field(default=2, ge=0, le=50)

    # --- API ---------------------------------------------------------------------------
    # Per-key limits: declared on API Gateway's usage plan (infra) and applied by the local server.
    api_rate_limit_per_s: int = Field(default=50, ge=1)
    api_burst: int = Field(default=100, ge=1)
    api_cache_max_age_s: int = Field(default=30, ge=0)  # Cache-Control max-age on reads
    # AWS: the usage plan that throttles each key (the stack's ApiUsagePlanId output); the keys CLI
    # registers keys in it. Unset locally, where the local server throttles.
    api_usage_plan_id: str | None = None
    # The queues whose depths /v1/health reports, name to URL, as JSON (AWS: the buffers and their
    # dead-letter queues; make run: the local ingest buffer). Read at most every health_queue_max_age_s.
    health_queue_urls: dict[str, str] = Field(default_factory=dict)
    health_queue_max_age_s: float = Field(default=15, ge=0)

    # --- wallet encryption (envelope: KMS data keys; keyed blind index for look-ups) ----------
    wallet_kms_key_id: str | None = None  # AWS: the KMS key that wraps data keys
    # AWS: the blind-index HMAC key, encrypted under the KMS key, base64 (decrypted once per container)
    wallet_index_key_ciphertext: str | None = None
    # Local only (make run, tests without KMS): 32-byte hex master key; refused outside stage "local"
    local_master_key: str | None = None

    # --- chain and the oracle sync (functions/oracle_sync) -------------------------------------
    chain_rpc_url: str | None = None  # JSON-RPC endpoint (anvil locally; a Filecoin node in AWS)
    chain_id: int = Field(default=31337, ge=1)  # 314 Filecoin mainnet, 314159 Calibration, 31337 anvil
    chain_rpc_timeout_s: float = Field(default=10.0, gt=0, le=60)
    oracle_contract_address: str | None = None
    # "local": a private key from the settings (stage local only); "kms": an ECC_SECG_P256K1 KMS key
    oracle_signer: Literal["local", "kms"] = "local"
    oracle_signer_private_key: SecretStr | None = None
    oracle_signer_kms_key_id: str | None = None
    # never pay more per gas unit than this; unset: the network's default (domain/networks.py)
    oracle_max_fee_per_gas_wei: int | None = Field(default=None, ge=1)
    oracle_fallback_priority_fee_wei: int = Field(default=10**9, ge=0)  # when the node has no estimate
    # Replacement bump; None: the network's default. Never below the network's floor (see domain.networks).
    oracle_fee_bump_percent: int | None = Field(default=None, ge=1, le=500)
    oracle_backoff_s: tuple[int, ...] | None = None  # retry delays; None: the network's schedule
    oracle_stuck_after_s: int | None = Field(default=None, ge=1)  # None: the network's (15 s; 90 s on Filecoin)
    oracle_confirmations: int = Field(default=1, ge=1)  # blocks deep before a receipt counts
    oracle_batch_size: int = Field(default=250, ge=1, le=2_000)  # creators per transaction
    oracle_receipt_wait_s: float = Field(default=30.0, ge=0)  # a run's wait for receipts before the retry queue
    oracle_heartbeat_hours: int = Field(default=24, ge=1)  # re-sync unchanged creators this often
    oracle_max_attempts: int = Field(default=5, ge=1, le=20)  # retry-queue attempts before the DLQ
    oracle_retry_queue_url: str | None = None
    oracle_dlq_url: str | None = None
    oracle_breaker_threshold: int = Field(default=3, ge=1)  # consecutive failed runs that open the breaker
    oracle_breaker_cooldown_s: int = Field(default=300, ge=1)
    oracle_local_sync_interval_s: int = Field(default=60, ge=1)  # `make run`: how often the local sync runs

    # --- milestones, creator coins, revenue sharing (functions/milestones; docs/coins.md) ----------
    milestone_play_thresholds: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)  # recorded, no action
    milestone_follower_thresholds: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)  # recorded, no action
    # The coin rule; the factory contract holds the same two thresholds and enforces them on chain.
    coin_min_plays: int = Field(default=50_000, ge=1)
    coin_min_followers: int = Field(default=5_000, ge=1)
    revenue_share_min_monthly_attofil: int = Field(default=100 * 10**18, ge=1)  # 100 FIL in a calendar month
    revenue_holders_share_bps: int = Field(default=1_000, ge=0, le=10_000)  # holders' part of a quarter's revenue
    coin_factory_address: str | None = None
    revenue_distributor_address: str | None = None
    # AWS: the EventBridge bus the oracle sync announces finished runs on (the milestones function listens)
    events_bus_name: str | None = None

    # --- ingestion --------------------------------------------------------------------------
    # The SQS "ingest buffer": batches go there when PostgreSQL is unreachable or times out.
    ingest_buffer_queue_url: str | None = None
    sqs_endpoint_url: str | None = None  # local only: moto's server (make run); AWS uses the regional endpoint
    # Events older than this (against the time the batch was received) are refused per item.
    max_event_age_days: int = Field(default=7, ge=1, le=90)
    # User agents are stored as HMAC-SHA256 under this key (64 hex characters). Unset in stage
    # "local" means a fixed development key; every other stage must set it (from Secrets Manager).
    ua_hash_key: str | None = None

    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "STREAMVAULT_AWS_REGION")
    )

    # --- local stack and tests ----------------------------------------------------------
    data_dir: Path = Path(".streamvault")  # embedded PostgreSQL data and other local state
    # A server the tests may create throwaway databases on; else DATABASE_URL, else embedded.
    test_database_url: str | None = None

    @model_validator(mode="after")
    def _one_database_source(self) -> Settings:
        if self.database_url and self.db_host:
            raise ValueError("set DATABASE_URL or STREAMVAULT_DB_HOST, not both")
        return self

    @model_validator(mode="after")
    def _local_signer_key_only_locally(self) -> Settings:
        # A raw private key in an environment variable is acceptable for a dev chain only.
        if self.oracle_signer_private_key is not None and self.stage != "local":
            raise ValueError("STREAMVAULT_ORACLE_SIGNER_PRIVATE_KEY is for stage local: use a KMS signer")
        return self

    @model_validator(mode="after")
    def _bump_over_network_floor(self) -> Settings:
        from streamvault.domain.networks import network_rules

        floor = network_rules(self.chain_id).min_bump_percent
        if self.oracle_fee_bump_percent is not None and self.oracle_fee_bump_percent < floor:
            raise ValueError(f"a fee bump under {floor}% is refused by chain {self.chain_id}'s nodes")
        return self

    @property
    def uses_rds_proxy(self) -> bool:
        return self.database_url is None and self.db_host is not None


KEY_BYTES = 32


def hex_key(raw: str, variable: str) -> bytes:
    """A 32-byte key set as 64 hex characters; the error never echoes the value (a secret)."""
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError(f"{variable} must be 64 hex characters (32 bytes)")
    return key


_current: Settings | None = None


def get_settings() -> Settings:
    """The process's settings, read from the environment once (per Lambda container)."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def configure(**overrides: object) -> Settings:
    """Replace the settings with the environment's plus ``overrides`` (CLI flags, the local
    stack, tests). Callers that already hold engines dispose them (``dispose_engines``)."""
    global _current
    _current = Settings(**overrides)  # type: ignore[arg-type]
    return _current


def reset_settings() -> None:
    global _current
    _current = None
