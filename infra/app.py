"""The CDK app: `cdk synth` (or `python infra/app.py`) builds the StreamVault stack offline.

``-c stage=dev|prod`` picks the stage (dev by default, see cdk.json); other context values
override the stage's defaults (infra/config.py), e.g. ``-c read_replica=true``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python infra/app.py` from anywhere

from infra.config import from_context
from infra.stack import StreamVaultStack

ROOT = Path(__file__).resolve().parents[1]


def build_app(context: dict[str, object] | None = None, outdir: str | None = None) -> cdk.App:
    app = cdk.App(context=context, outdir=outdir)
    stage = str(app.node.try_get_context("stage") or "dev")
    StreamVaultStack(app, f"StreamVault-{stage}", config=from_context(app.node, stage))
    return app


if __name__ == "__main__":
    # The CDK CLI names its output directory; run directly (`make synth`), the app writes cdk.out/
    # there too, where an unchanged layer bundle from the previous synth is reused.
    build_app(outdir=os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out")).synth()
