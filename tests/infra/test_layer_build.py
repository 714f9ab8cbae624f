"""The layer's requirements and size check (the pip step itself runs in `make synth`, not here)."""

from __future__ import annotations

import shutil
import ssl
import sys
from pathlib import Path

import certifi
import pytest

from infra import layer_build
from infra.components.layer import source_hash


def test_layer_ships_runtime_dependencies_without_boto3_or_dev_tools() -> None:
    requirements = layer_build.runtime_requirements()
    names = {layer_build._name(r) for r in requirements}
    assert {"aws-lambda-powertools", "psycopg", "sqlalchemy", "alembic", "pydantic", "web3"} <= names
    assert any(r.startswith("aws-lambda-powertools[tracer]") for r in requirements)  # the X-Ray SDK
    assert not names & {"boto3", "botocore", "pytest", "moto", "ruff", "pgserver", "aws-cdk-lib"}


def test_layer_targets_the_lambda_platform() -> None:
    assert layer_build.LAMBDA_PYTHON == "3.12"
    assert all(p.endswith("aarch64") for p in layer_build.PLATFORMS)


def test_size_report_refuses_a_layer_over_the_limit() -> None:
    assert "115.7 MB" in layer_build.report(115_700_000)
    with pytest.raises(RuntimeError, match="over Lambda's 250 MB"):
        layer_build.report(251_000_000)


def test_asset_hash_is_stable_and_follows_the_build_script(monkeypatch, tmp_path) -> None:
    before = source_hash()
    assert source_hash() == before
    edited = tmp_path / "layer_build.py"
    edited.write_bytes(Path(layer_build.__file__).read_bytes() + b"# a change to how the layer is built\n")
    monkeypatch.setattr(layer_build, "__file__", str(edited))
    assert source_hash() != before  # a new build, not the cached asset


def test_byte_code_is_compiled_to_be_used_whatever_the_file_times(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("VALUE = 1\n")
    layer_build.compile_bytecode(tmp_path, sys.executable)
    (compiled,) = (tmp_path / "pkg" / "__pycache__").glob("mod.*.pyc")
    flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, unchecked: a zip's file times cannot make the runtime recompile it


def test_only_an_interpreter_of_the_runtime_version_compiles(monkeypatch):
    monkeypatch.setenv("STREAMVAULT_LAYER_PYTHON", sys.executable)
    expected = sys.executable if f"{sys.version_info[0]}.{sys.version_info[1]}" == layer_build.LAMBDA_PYTHON else None
    assert layer_build.runtime_interpreter() == expected


def _layer_with_certifi(tmp_path: Path) -> Path:
    (tmp_path / "certifi").mkdir()
    shutil.copy(certifi.where(), tmp_path / "certifi" / "cacert.pem")
    return tmp_path


def test_the_database_ca_bundle_holds_the_public_roots_and_rds_cas(tmp_path) -> None:
    target = _layer_with_certifi(tmp_path)
    public = (target / "certifi" / "cacert.pem").read_text()
    # a stand-in for AWS' bundle: one real certificate (the build fetches RDS_CA_URL)
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    rds = public[public.index(begin):public.index(end) + len(end)] + "\n"
    bundle = layer_build.write_ca_bundle(target, rds)
    assert bundle == target / layer_build.CA_BUNDLE
    text = bundle.read_text()
    assert text.startswith(public.rstrip("\n")) and text.endswith(rds)
    assert text.count(begin) == public.count(begin) + 1


@pytest.mark.parametrize("answer", ["<html>maintenance</html>", "-----BEGIN CERTIFICATE-----\nnot base64\n"
                                                                "-----END CERTIFICATE-----\n"])
def test_an_answer_without_loadable_certificates_fails_the_build(tmp_path, answer) -> None:
    with pytest.raises((ValueError, ssl.SSLError)):
        layer_build.write_ca_bundle(_layer_with_certifi(tmp_path), answer)


def test_functions_verify_the_database_against_that_bundle(dev) -> None:
    envs = [fn["Properties"].get("Environment", {}).get("Variables", {})
            for fn in dev.template.find_resources("AWS::Lambda::Function").values()]
    roots = [env["STREAMVAULT_DB_SSLROOTCERT"] for env in envs if "STREAMVAULT_DB_HOST" in env]
    assert len(roots) == 6 and set(roots) == {f"/opt/python/{layer_build.CA_BUNDLE}"}


def test_a_copy_of_the_rds_bundle_can_stand_in_for_the_download(tmp_path, monkeypatch) -> None:
    copy = tmp_path / "global-bundle.pem"
    copy.write_text("-----BEGIN CERTIFICATE-----\n...\n")
    monkeypatch.setenv("STREAMVAULT_RDS_CA_BUNDLE", str(copy))
    assert layer_build.fetch_rds_cas() == copy.read_text()
