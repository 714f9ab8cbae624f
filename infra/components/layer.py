"""The common layer: ``layers/common`` and its runtime dependencies, built without Docker.

The asset's bundling runs ``infra/layer_build.py`` locally (``ILocalBundling``); the Docker image
named in the options is required by the API but never used, because local bundling always
succeeds or raises. The asset hash covers the package's sources, the pinned requirements and the
target platform, so an unchanged layer is neither rebuilt nor re-uploaded. Tests pass
``-c layer_asset_dir=…`` (a small stub directory) to skip the pip step entirely.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import layer_build

ARCHITECTURE = lambda_.Architecture.ARM_64
RUNTIME = lambda_.Runtime.PYTHON_3_12


@jsii.implements(ILocalBundling)
class _PipBundling:
    def try_bundle(self, output_dir: str, options: object) -> bool:
        print(layer_build.report(layer_build.build(Path(output_dir))))
        return True


def source_hash() -> str:
    digest = hashlib.sha256()
    for marker in (layer_build.LAMBDA_PYTHON, *layer_build.PLATFORMS, *layer_build.runtime_requirements()):
        digest.update(marker.encode())
    digest.update(Path(layer_build.__file__).read_bytes())  # how it is built (e.g. the CA bundle) counts too
    for path in sorted(layer_build.PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(layer_build.PACKAGE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _code(prebuilt_dir: str | None) -> lambda_.Code:
    if prebuilt_dir:
        return lambda_.Code.from_asset(prebuilt_dir)
    return lambda_.Code.from_asset(
        str(layer_build.PACKAGE_DIR.parent), asset_hash_type=AssetHashType.CUSTOM, asset_hash=source_hash(),
        bundling=BundlingOptions(image=DockerImage.from_registry("unused-local-bundling"), local=_PipBundling()),
    )


class CommonLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prebuilt_dir: str | None) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self, "Layer", code=_code(prebuilt_dir), compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="streamvault package + runtime dependencies (Powertools, SQLAlchemy, psycopg, web3)",
        )
