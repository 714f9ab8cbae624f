"""cdk-nag (AwsSolutions) and cfn-lint on the synthesized templates."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.infra.conftest import Synth


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cdk_nag_has_no_unacknowledged_finding(stage: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(stage)
    assert synth.nag_error is None, synth.nag_error
    (nag,) = [r for r in synth.report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []


def test_every_acknowledgment_has_a_reason(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        (nag,) = [r for r in synth.report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
        assert nag["suppressedViolations"]
        for suppressed in nag["suppressedViolations"]:
            assert len(suppressed["reason"]) > 30, suppressed["acknowledgedId"]


def test_cfn_lint_reports_no_error(dev: Synth, prod: Synth) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "parseable", str(dev.template_path), str(prod.template_path)],
        capture_output=True, text=True, check=False,
    )
    # Parseable lines: file:line:col:line:col:RULE:message; rules starting with E are errors.
    errors = [line for line in result.stdout.splitlines() if line.split(":")[5].startswith("E")]
    assert errors == [], "\n".join(errors)
