"""Synthesize each stage once per test session, with cdk-nag (AwsSolutions) as a validation plugin.

The common layer's pip bundling is skipped: ``layer_asset_dir`` points at a tiny stub directory,
so the suite stays offline and fast. ``make synth`` and deploys build the real layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra.config import from_context
from infra.stack import StreamVaultStack


@dataclass(frozen=True)
class Synth:
    stack: StreamVaultStack
    template: Template
    template_path: Path
    nag_error: str | None  # the validation failure, None when every finding is acknowledged
    report: dict


def _synthesize(stage: str, root: Path, **context: object) -> Synth:
    layer = root / "stub-layer" / "python"
    layer.mkdir(parents=True, exist_ok=True)
    (layer / "stub.py").write_text("# stands in for the real layer in tests\n")
    outdir = root / f"cdk.out-{stage}"
    app = cdk.App(outdir=str(outdir), context={"stage": stage, "layer_asset_dir": str(layer.parent), **context})
    stack = StreamVaultStack(app, f"StreamVault-{stage}", config=from_context(app.node, stage))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    nag_error = None
    try:
        app.synth()
    except RuntimeError as exc:  # a finding nobody acknowledged: the report says which
        nag_error = str(exc)
    template_path = outdir / f"{stack.stack_name}.template.json"
    template = Template.from_json(json.loads(template_path.read_text()))
    report = json.loads((outdir / "validation-report.json").read_text())
    return Synth(stack, template, template_path, nag_error, report)


RPC_URL_VERSION = "7c9f0d4e-rotated"  # as `put-secret-value` prints a VersionId


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synthesize("dev", tmp_path_factory.mktemp("infra-dev"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synthesize("prod", tmp_path_factory.mktemp("infra-prod"), read_replica="true",
                       alarm_email="oncall@example.com", rpc_url_version=RPC_URL_VERSION)
