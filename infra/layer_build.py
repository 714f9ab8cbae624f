"""Builds the common Lambda layer without Docker: pip fetches wheels for the Lambda platform.

``python infra/layer_build.py OUTPUT_DIR`` (or the CDK asset's local bundling step) produces
``OUTPUT_DIR/python/``: the runtime dependencies from ``pyproject.toml`` as manylinux aarch64
wheels for the Lambda runtime's Python, plus the ``streamvault`` package, and prints the size.
Only ``--only-binary`` wheels are accepted, so nothing is compiled for the build machine's platform.

Byte code ships with the sources: the runtime cannot write it (``/opt`` is read-only), so a layer
without it is compiled again on every cold start (hundreds of milliseconds for SQLAlchemy,
pydantic and Powertools). It must come from the runtime's own Python version: the interpreter
in ``STREAMVAULT_LAYER_PYTHON``, else ``python3.12`` on the PATH; without one the layer ships
sources only, with a warning. ``unchecked-hash`` byte code is used whatever the files' times.

TLS: the layer carries one CA bundle for the database connections (``CA_BUNDLE``): certifi's
Mozilla roots, to which RDS Proxy's certificates chain, and RDS' own CAs, fetched from AWS at
build time, which sign the certificate of a read replica (reached directly: the proxy cannot
front one).
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "layers" / "common" / "streamvault"
LAMBDA_PYTHON = "3.12"
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# In the Lambda runtime already (and its version there is the one the service supports).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Never shipped: tests and tooling are dead weight, and byte code from any other interpreter
# than the runtime's is (this build compiles its own, see compile_bytecode).
PRUNED_DIRS = ("__pycache__", "tests", "test")
PRUNED_FILES = ("*.pyc", "*.pyi")
LAYER_LIMIT_MB = 250
RDS_CA_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"  # AWS' documented bundle
CA_BUNDLE = "streamvault-db-ca.pem"  # in python/, so /opt/python/streamvault-db-ca.pem in the runtime


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
    write_ca_bundle(target, fetch_rds_cas())
    interpreter = runtime_interpreter()
    if interpreter is None:
        print(f"warning: no Python {LAMBDA_PYTHON} to compile the layer's byte code with (set "
              "STREAMVAULT_LAYER_PYTHON): it ships sources only, compiled on every cold start", file=sys.stderr)
    else:
        compile_bytecode(target, interpreter)
    return _size(output_dir)


def fetch_rds_cas() -> str:
    """AWS' bundle, or a copy of it named by STREAMVAULT_RDS_CA_BUNDLE (a build machine that cannot reach AWS)."""
    if copy := os.environ.get("STREAMVAULT_RDS_CA_BUNDLE"):
        return Path(copy).read_text(encoding="ascii")
    try:
        with urllib.request.urlopen(RDS_CA_URL, timeout=30) as response:
            return response.read().decode("ascii")
    except OSError as exc:
        raise RuntimeError(f"cannot fetch RDS' CA bundle from {RDS_CA_URL} ({exc}); download it elsewhere "
                           "and name the file in STREAMVAULT_RDS_CA_BUNDLE") from exc


def write_ca_bundle(target: Path, rds_cas: str) -> Path:
    """certifi's roots (installed in ``target``) followed by RDS' CAs; ValueError unless both
    hold certificates that load."""
    if "-----BEGIN CERTIFICATE-----" not in rds_cas:
        raise ValueError(f"{RDS_CA_URL} did not answer with PEM certificates")
    bundle = target / CA_BUNDLE
    bundle.write_text((target / "certifi" / "cacert.pem").read_text().rstrip("\n") + "\n" + rds_cas)
    ssl.create_default_context(cafile=str(bundle))  # every certificate in it must parse
    return bundle


def runtime_interpreter() -> str | None:
    """A Python of the runtime's version, or None."""
    candidate = os.environ.get("STREAMVAULT_LAYER_PYTHON") or shutil.which(f"python{LAMBDA_PYTHON}")
    if not candidate:
        return None
    probe = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, check=False)
    return candidate if probe.returncode == 0 and probe.stdout.strip() == LAMBDA_PYTHON else None


def compile_bytecode(target: Path, interpreter: str) -> None:
    subprocess.run([interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    str(target)], check=True)


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
