"""Per-stage settings of the stack, read from CDK context (``-c stage=prod`` and friends).

Defaults are prod-safe: anything that is not ``dev`` gets Multi-AZ, deletion protection,
retained data and longer backups. ``dev`` trades those for cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Node

BOOL_FIELDS = ("multi_az", "deletion_protection", "retain_data", "read_replica")
# Set after the first deploy (docs/deploy.md); absent until then.
OPTIONAL_FIELDS = ("alarm_email", "oracle_contract_address", "coin_factory_address", "revenue_distributor_address",
                   "wallet_index_key_ciphertext", "layer_asset_dir")


@dataclass(frozen=True)
class StageConfig:
    stage: str
    multi_az: bool
    deletion_protection: bool
    retain_data: bool  # RemovalPolicy.RETAIN (snapshot for the database) vs DESTROY
    nat_gateways: int
    db_instance_type: ec2.InstanceType
    db_allocated_storage_gib: int
    db_max_allocated_storage_gib: int
    # Automated backups: PITR restores to any second up to ~5 minutes ago (RPO ≤ 15 min).
    backup_retention_days: int
    read_replica: bool
    log_retention: logs.RetentionDays
    # Alarm thresholds that depend on the instance size.
    db_max_connections_alarm: int
    db_free_storage_alarm_bytes: int
    # Stage-wide API ceiling (all keys together); per-key limits are the usage plan's.
    api_stage_rate_per_s: int
    api_stage_burst: int
    chain_id: int
    alarm_email: str | None
    oracle_contract_address: str | None
    coin_factory_address: str | None
    revenue_distributor_address: str | None
    wallet_index_key_ciphertext: str | None
    layer_asset_dir: str | None  # a pre-built layer directory (tests: a stub) instead of bundling


def _dev() -> dict[str, object]:
    return {
        "multi_az": False, "deletion_protection": False, "retain_data": False, "nat_gateways": 1,
        "db_instance_type": ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MICRO),
        "db_allocated_storage_gib": 20, "db_max_allocated_storage_gib": 50, "backup_retention_days": 7,
        "read_replica": False, "log_retention": logs.RetentionDays.TWO_WEEKS,
        "db_max_connections_alarm": 60, "db_free_storage_alarm_bytes": 2 * 1024**3,
        "api_stage_rate_per_s": 100, "api_stage_burst": 200, "chain_id": 314159,
    }


def _prod() -> dict[str, object]:
    return {
        "multi_az": True, "deletion_protection": True, "retain_data": True, "nat_gateways": 2,
        "db_instance_type": ec2.InstanceType.of(ec2.InstanceClass.MEMORY7_GRAVITON, ec2.InstanceSize.LARGE),
        "db_allocated_storage_gib": 100, "db_max_allocated_storage_gib": 500, "backup_retention_days": 14,
        "read_replica": False, "log_retention": logs.RetentionDays.THREE_MONTHS,
        # r7g.large: max_connections ≈ 1,700 by RDS' formula; the proxy takes at most 75 % of it.
        "db_max_connections_alarm": 1_200, "db_free_storage_alarm_bytes": 10 * 1024**3,
        "api_stage_rate_per_s": 1_000, "api_stage_burst": 2_000, "chain_id": 314,
    }


def from_context(node: Node, stage: str) -> StageConfig:
    """The stage's defaults, each overridable by a context value of the same name."""
    defaults = _dev() if stage == "dev" else _prod()  # any other name gets the safe profile
    values = {name: node.try_get_context(name) for name in StageConfig.__dataclass_fields__}
    merged = {**defaults, **{k: v for k, v in values.items() if v is not None}}
    merged["stage"] = stage
    for optional in OPTIONAL_FIELDS:
        merged.setdefault(optional, None)
    for name in BOOL_FIELDS:
        merged[name] = _flag(merged[name])
    return StageConfig(**merged)  # type: ignore[arg-type]


def _flag(value: object) -> bool:
    # `-c read_replica=true` arrives as a string from the command line.
    return value is True or str(value).lower() in ("true", "1", "yes")
