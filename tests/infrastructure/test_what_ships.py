"""What the functions import is what ships: the library without the local stack, the CLI or
the OpenAPI builder, and for the zip functions nothing beyond Powertools' public layer and
the Lambda runtime (the engine and its dependencies live only in the container image)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import packages_distributions

import pytest
from infra_synth import REPO_ROOT

from infrastructure.layer import NOT_SHIPPED

CONTAINER = "remove_background"
REQUIREMENTS = REPO_ROOT / "functions" / CONTAINER / "requirements.txt"
# The Lambda Python runtime (boto3 and its closure) plus Powertools' public layer.
ZIP_THIRD_PARTY = {"aws_lambda_powertools", "boto3", "botocore", "jmespath", "s3transfer",
                   "dateutil", "urllib3", "six", "aws_xray_sdk", "wrapt", "typing_extensions"}

_PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("entry", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
print(json.dumps(sorted(sys.modules)))
"""


def entry_points() -> list[str]:
    """Every Lambda entry module: functions/<name>/*.py (the handler and any sibling entry)."""
    return sorted(str(path.relative_to(REPO_ROOT / "functions"))
                  for path in (REPO_ROOT / "functions").glob("*/*.py"))


def _container_packages() -> set[str]:
    """The top-level modules the image's pinned distributions install, read from each
    installed distribution's own file list (pillow-heif brings `_pillow_heif` beside
    `pillow_heif`, pillow is `PIL`, protobuf the `google` namespace)."""
    pinned = set()
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[a-z,]+\])?==", line)
        if match:
            pinned.add(_normalised(match[1]))
    return {module for module, distributions in packages_distributions().items()
            if any(_normalised(name) in pinned for name in distributions)}


def _normalised(distribution: str) -> str:
    return re.sub(r"[-_.]+", "_", distribution).lower()


def _imported(entry: str) -> set[str]:
    path = REPO_ROOT / "functions" / entry
    result = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True,
                            text=True, timeout=180,
                            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("entry", entry_points())
def test_a_function_imports_only_what_its_package_ships(entry):
    # Given a Lambda entry module, imported as Lambda imports it
    modules = _imported(entry)
    # Then nothing of the local stack, the CLI or the OpenAPI builder was loaded
    unshipped = {m for m in modules if m.split(".")[:2][-1] in NOT_SHIPPED
                 and m.startswith("cutout.")}
    assert not unshipped, unshipped
    # And every third-party module is one its package carries
    allowed = _container_packages() if entry.startswith(f"{CONTAINER}/") else ZIP_THIRD_PARTY
    third_party = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names) \
        - {"cutout", "entry", "__main__", "__mp_main__", "_distutils_hack", "_virtualenv",
           "certifi"}  # certifi: botocore takes it only when present
    assert third_party <= allowed, sorted(third_party - allowed)


def test_the_layer_and_the_image_leave_out_the_same_parts():
    # Given the layer bundler's list and the image's build context rules
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    # Then each unshipped part is excluded from the image too
    for part in NOT_SHIPPED:
        assert f"layers/cutout/{part}/" in ignored, part
        assert (REPO_ROOT / "layers" / "cutout" / part).is_dir(), part
