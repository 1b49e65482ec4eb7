"""The inference image's build inputs, checked without Docker.

Every path the Dockerfile copies exists and survives `.dockerignore`; everything else (the
venv, tests, cdk.out) stays out of the build context; every pinned requirement has a wheel
for the Lambda base image's Python on both architectures, and the pins are the full closure.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import aws_cdk as cdk
import pytest
from infra_synth import REPO_ROOT

FUNCTION = REPO_ROOT / "functions" / "remove_background"
DOCKERFILE = FUNCTION / "Dockerfile"
REQUIREMENTS = FUNCTION / "requirements.txt"
PYTHON = "3.13"  # the Dockerfile's base image
PLATFORMS = {  # manylinux tags the Lambda base image (Amazon Linux 2023, glibc 2.34) accepts
    "x86_64": ["manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"],
    "aarch64": ["manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64"],
}


def _instructions(name: str) -> list[list[str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [shlex.split(line)[1:] for line in text.splitlines()
            if line.strip().upper().startswith(name + " ")]


def _requirements() -> list[str]:
    """One string per requirement, continuation lines joined, comments dropped."""
    text = REQUIREMENTS.read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _pins() -> dict[str, str]:
    pins = {}
    for requirement in _requirements():
        match = re.match(r"([A-Za-z0-9_.-]+)(\[[a-z,]+\])?==([\w.]+)\s", requirement + " ")
        assert match, f"not pinned exactly: {requirement}"
        pins[_normal(match.group(1))] = match.group(3)
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_base_image_is_the_lambda_python_image_the_wheels_are_checked_for():
    [[image]] = _instructions("FROM")
    assert image.split("@")[0] == f"public.ecr.aws/lambda/python:{PYTHON}"


def test_the_base_image_is_pinned_by_digest():
    # A tag moves (AWS republishes it with every patch); a digest names exactly one image.
    [[image]] = _instructions("FROM")
    assert re.fullmatch(r"public\.ecr\.aws/lambda/python:[\d.]+@sha256:[0-9a-f]{64}", image)
    # and the update path the comment points to exists
    assert "Updating the base image" in (REPO_ROOT / "docs" / "deploy.md").read_text()


def _unshipped(path) -> bool:
    """Part of the library no function imports (infrastructure/layer.py NOT_SHIPPED)."""
    from infrastructure.layer import NOT_SHIPPED

    library = REPO_ROOT / "layers" / "cutout"
    return path.is_relative_to(library) and path.relative_to(library).parts[0] in NOT_SHIPPED


def test_every_path_the_dockerfile_copies_exists_and_is_in_the_build_context():
    ignore = cdk.IgnoreStrategy.docker(str(REPO_ROOT),
                                       (REPO_ROOT / ".dockerignore").read_text().splitlines())
    copies = _instructions("COPY")
    assert len(copies) == 4
    for *sources, _destination in copies:
        for source in sources:
            matches = list(REPO_ROOT.glob(source.rstrip("/")))
            assert matches, f"COPY {source}: nothing there"
            for match in matches:
                files = [match] if match.is_file() else [p for p in match.rglob("*")
                                                         if p.is_file()]
                for path in files:
                    if "__pycache__" in path.parts or _unshipped(path):
                        continue
                    assert not ignore.ignores(str(path)), f"{path} is excluded"


def test_the_build_context_leaves_out_the_venv_tests_and_build_output():
    ignore = cdk.IgnoreStrategy.docker(str(REPO_ROOT),
                                       (REPO_ROOT / ".dockerignore").read_text().splitlines())
    for outside in (".venv/bin/python", "tests/unit/test_settings.py", "cdk.out/manifest.json",
                    ".git/HEAD", "functions/authorizer/handler.py", "app.py"):
        assert ignore.ignores(str(REPO_ROOT / outside)), outside


def test_the_model_and_its_manifest_are_copied_in():
    assert (REPO_ROOT / "models" / "manifest.json").exists()
    assert ["models/", "${LAMBDA_TASK_ROOT}/models/"] in _instructions("COPY")


def test_every_requirement_is_locked_to_wheel_hashes():
    for requirement in _requirements():
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", requirement), requirement
    assert "--require-hashes" in DOCKERFILE.read_text()


def test_requirements_cover_what_the_engine_imports():
    pins = _pins()
    for needed in ("numpy", "pillow", "onnxruntime", "isal", "aws-lambda-powertools", "boto3"):
        assert needed in pins, needed


def _pypi_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=10):
            return True
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("machine", sorted(PLATFORMS))
def test_every_pin_has_a_wheel_for_lambda_and_the_pins_are_the_full_closure(machine, tmp_path):
    if not _pypi_reachable():
        pytest.skip("PyPI is unreachable: cannot check the image's wheels offline")
    platforms = [arg for tag in PLATFORMS[machine] for arg in ("--platform", tag)]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
         "--python-version", PYTHON, "--implementation", "cp", *platforms,
         "--index-url", "https://pypi.org/simple", "--dest", str(tmp_path),
         "-r", str(REQUIREMENTS)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    downloaded = {}
    for wheel in Path(tmp_path).glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        downloaded[_normal(name)] = version
    assert downloaded == _pins()  # nothing missing, nothing unpinned pulled in
