"""The app synthesizes offline for both stages; the stage comes from context (tests/infra/test_config.py)."""

from __future__ import annotations

from aws_cdk.assertions import Match

from infra.stack import StreamVaultStack
from tests.infra.conftest import Synth


def test_both_stages_synthesize_and_are_tagged(dev: Synth, prod: Synth) -> None:
    assert dev.stack.tags.tag_values() == {"project": "streamvault", "stage": "dev"}
    assert prod.stack.tags.tag_values() == {"project": "streamvault", "stage": "prod"}


def test_one_construct_per_concern(dev: Synth) -> None:
    children = {c.node.id for c in dev.stack.node.children}
    assert {"Network", "Keys", "Database", "CommonLayer", "Functions", "Queues", "Api", "Scheduling",
            "Migrations", "Monitoring"} <= children
    assert isinstance(dev.stack, StreamVaultStack)


def test_migrations_run_on_deploy_through_the_ops_function(dev: Synth) -> None:
    dev.template.has_resource_properties("Custom::StreamVaultMigrations", {
        "MigrationsHash": Match.string_like_regexp("^[0-9a-f]{64}$"),
    })
    dev.template.has_resource_properties("AWS::Lambda::Function", {
        "FunctionName": "streamvault-dev-ops", "Timeout": 900,
    })
