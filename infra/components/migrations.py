"""Migrations on deploy: a custom resource whose handler (the ops function) runs Alembic to head.

Its properties carry a hash of the migration scripts, so any deploy that adds or changes one is
an Update of the resource and runs them; other deploys leave the schema alone. A failed
migration fails the deploy, and CloudFormation rolls the stack back (docs/deploy.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from aws_cdk import CustomResource
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

MIGRATIONS = Path(__file__).resolve().parents[2] / "layers/common/streamvault/db/migrations"


def migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Migrations(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, ops_fn: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        provider = cr.Provider(self, "Provider", on_event_handler=ops_fn)
        self.resource = CustomResource(
            self, "Schema", service_token=provider.service_token, resource_type="Custom::StreamVaultMigrations",
            properties={"MigrationsHash": migrations_hash()},
        )
