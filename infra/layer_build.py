"""Builds the common Lambda layer without Docker: pip fetches wheels for the Lambda platform.

``python infra/layer_build.py OUTPUT_DIR`` (or the CDK asset's local bundling step) produces
``OUTPUT_DIR/python/``: the runtime dependencies from ``pyproject.toml`` as manylinux aarch64
wheels for the Lambda runtime's Python, plus the ``streamvault`` package, and prints the size.
Only ``--only-binary`` wheels are accepted, so nothing is compiled for the build machine's platform.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "layers" / "common" / "streamvault"
LAMBDA_PYTHON = "3.12"
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# In the Lambda runtime already (and its version there is the one the service supports).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Never shipped: byte code is rebuilt by the runtime, tests and tooling are dead weight.
PRUNED_DIRS = ("__pycache__", "tests", "test")
PRUNED_FILES = ("*.pyc", "*.pyi")
LAYER_LIMIT_MB = 250


def runtime_requirements() -> list[str]:
    """``[project] dependencies`` minus what the Lambda runtime provides."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return [d for d in deps if _name(d) not in RUNTIME_PROVIDED]


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0].lower()


def build(output_dir: Path) -> int:
    """Fill ``output_dir/python``; returns the layer's unzipped size in bytes."""
    target = output_dir / "python"
    target.mkdir(parents=True, exist_ok=True)
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         *platforms, "--implementation", "cp", "--python-version", LAMBDA_PYTHON, "--only-binary=:all:",
         "--target", str(target), *runtime_requirements()],
        check=True,
    )
    shutil.copytree(PACKAGE_DIR, target / "streamvault", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*PRUNED_DIRS, *PRUNED_FILES))
    _prune(target)
    return _size(output_dir)


def _prune(target: Path) -> None:
    for name in RUNTIME_PROVIDED:
        shutil.rmtree(target / name, ignore_errors=True)
        for info in target.glob(f"{name}-*.dist-info"):
            shutil.rmtree(info)
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts built for this machine
    for pattern in PRUNED_DIRS:
        for path in sorted(target.rglob(pattern), reverse=True):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
    for pattern in PRUNED_FILES:
        for path in target.rglob(pattern):
            path.unlink()


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def report(size: int) -> str:
    mb = size / 1_000_000
    if mb >= LAYER_LIMIT_MB:
        raise RuntimeError(f"layer is {mb:.1f} MB unzipped, over Lambda's {LAYER_LIMIT_MB} MB limit")
    return f"streamvault common layer: {mb:.1f} MB unzipped (Lambda's limit: {LAYER_LIMIT_MB} MB)"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python infra/layer_build.py OUTPUT_DIR")
    print(report(build(Path(sys.argv[1]))))
