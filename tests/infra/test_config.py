"""Stage settings from CDK context: only the stages the functions know, overrides typed like the defaults."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from infra.config import StageConfig, from_context


def _config(stage: str = "prod", **context: object) -> StageConfig:
    return from_context(cdk.App(context=context).node, stage)


@pytest.mark.parametrize("stage", ["staging", "local", "Prod"])
def test_a_stage_the_functions_would_refuse_is_refused_at_synth(stage: str) -> None:
    with pytest.raises(ValueError, match=f"unknown stage '{stage}'"):
        _config(stage)


def test_command_line_overrides_are_converted_to_each_fields_type() -> None:
    # The CDK CLI hands every `-c name=value` over as a string.
    config = _config(backup_retention_days="21", nat_gateways="3", db_max_connections_alarm="900",
                     multi_az="false", read_replica="true", log_retention="one_month",
                     db_instance_type="db.r7g.xlarge", alarm_email="oncall@example.com")
    assert (config.backup_retention_days, config.nat_gateways, config.db_max_connections_alarm) == (21, 3, 900)
    assert (config.multi_az, config.read_replica) == (False, True)
    assert config.log_retention is logs.RetentionDays.ONE_MONTH
    assert config.db_instance_type.to_string() == "r7g.xlarge"
    assert config.alarm_email == "oncall@example.com"
    assert cdk.Duration.days(config.backup_retention_days).to_days() == 21  # what the database does with it


def test_json_context_values_keep_working() -> None:
    config = _config("dev", backup_retention_days=10, read_replica=True)
    assert (config.backup_retention_days, config.read_replica, config.multi_az) == (10, True, False)


@pytest.mark.parametrize(("name", "value"), [
    ("backup_retention_days", "three weeks"), ("nat_gateways", "1.5"), ("chain_id", True),
    ("deletion_protection", "ture"), ("log_retention", "15"), ("db_instance_type", "large"),
])
def test_an_override_that_does_not_convert_names_its_field(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"context value {name}="):
        _config(**{name: value})
