"""Per-stage settings of the stack, read from CDK context (``-c stage=prod`` and friends).

The stages are ``dev`` and ``prod``, the only ones the functions' settings accept
(STREAMVAULT_STAGE); any other name is refused. ``prod`` gets Multi-AZ, deletion protection,
retained data and longer backups; ``dev`` trades those for cost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Node

# Set after the first deploy (docs/deploy.md); absent until then.
OPTIONAL_FIELDS = ("alarm_email", "oracle_contract_address", "coin_factory_address", "revenue_distributor_address",
                   "wallet_index_key_ciphertext", "rpc_url_version", "ua_hash_key_version", "layer_asset_dir")


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
    # The secrets' versions the functions get (put-secret-value prints one): a new value reaches
    # them only through a changed template, since an unversioned reference looks the same.
    rpc_url_version: str | None
    ua_hash_key_version: str | None
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


STAGES = {"dev": _dev, "prod": _prod}


def from_context(node: Node, stage: str) -> StageConfig:
    """The stage's defaults, each overridable by a context value of the same name."""
    if stage not in STAGES:
        # The functions would get STREAMVAULT_STAGE=<stage>, which their settings refuse at start.
        raise ValueError(f"unknown stage {stage!r}: the stages are {', '.join(STAGES)}")
    merged = STAGES[stage]()
    for field in fields(StageConfig):
        value = node.try_get_context(field.name)
        if value is not None and field.name != "stage":
            merged[field.name] = _convert(field.name, str(field.type), value)
    merged["stage"] = stage
    for optional in OPTIONAL_FIELDS:
        merged.setdefault(optional, None)
    return StageConfig(**merged)  # type: ignore[arg-type]


def _convert(name: str, annotation: str, value: object) -> object:
    # `-c backup_retention_days=21` arrives as a string from the command line: Duration.days("21") fails.
    try:
        return _CONVERTERS.get(annotation, str)(value)
    except ValueError as exc:
        raise ValueError(f"context value {name}={value!r}: {exc}") from None


def _flag(value: object) -> bool:
    text = str(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError("expected true or false")  # a typo must not turn a safeguard off


def _whole(value: object) -> int:
    text = str(value).strip()  # a JSON context's true or 2.5 must not pass as 1 or 2
    if not re.fullmatch(r"\d+", text):
        raise ValueError("expected a whole number")
    return int(text)


def _instance_type(value: object) -> ec2.InstanceType:
    text = str(value).removeprefix("db.")  # RDS' spelling; CDK adds the prefix itself
    if not re.fullmatch(r"[a-z0-9-]+\.[a-z0-9]+", text):
        raise ValueError("expected an instance type such as r7g.large")
    return ec2.InstanceType(text)


def _retention(value: object) -> logs.RetentionDays:
    try:
        return logs.RetentionDays[str(value).upper()]
    except KeyError:
        raise ValueError("expected a RetentionDays name such as one_month") from None


# Each field's type (its annotation) → how a context value becomes one; others stay strings.
_CONVERTERS: dict[str, Callable[[object], object]] = {
    "bool": _flag, "int": _whole, "ec2.InstanceType": _instance_type, "logs.RetentionDays": _retention,
}
