"""The CDK app: `cdk synth` (or `python infra/app.py`) builds the StreamVault stack offline.

Constructs per concern (network, database + proxy, layer + functions, api, schedules + queues,
monitoring) arrive with the infrastructure issue; today the stack is empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.stack import StreamVaultStack


def build_app() -> cdk.App:
    app = cdk.App()
    stage = app.node.try_get_context("stage") or "dev"
    StreamVaultStack(app, f"StreamVault-{stage}", stage=stage)
    return app


if __name__ == "__main__":
    build_app().synth()
