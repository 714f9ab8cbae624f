"""The StreamVault stack: one construct per concern is added here as the issues land."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct


class StreamVaultStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.stage = stage
        cdk.Tags.of(self).add("project", "streamvault")
        cdk.Tags.of(self).add("stage", stage)
