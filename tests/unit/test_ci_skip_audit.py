"""In CI a skip fails the run unless tests/allowed_skips.txt lists its reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
INNER_TESTS = """
import pytest

def test_passes():
    pass

def test_skips_for_an_allowed_reason():
    pytest.skip("node and npm are needed to drive the npm client")

def test_skips_for_a_missing_tool():
    pytest.skip("cfn-lint is not installed")

@pytest.mark.xfail(reason="an expected failure is not a skip")
def test_expected_to_fail():
    assert False
"""


def _run(folder: Path, ci: str | None, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(folder), str(folder), *args],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def suite(tmp_path) -> Path:
    """A small suite with our root conftest and an allow-list naming one reason."""
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "allowed_skips.txt").write_text(
        "# reasons CI accepts\nnode and npm -- the npm client needs a Node toolchain\n")
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    return tmp_path


def test_in_ci_a_skip_for_an_unlisted_reason_fails_the_run_and_names_the_test(suite):
    # Given CI, and a suite where one test skips for a reason the allow-list lacks
    # When the suite runs
    run = _run(suite, "true")
    # Then the run fails, naming the test and its reason
    assert run.returncode == 1, run.stdout
    assert "skips CI does not allow" in run.stdout
    assert "test_skips_for_a_missing_tool: cfn-lint is not installed" in run.stdout
    # And the allowed skip and the xfail are not held against it
    assert "test_skips_for_an_allowed_reason:" not in run.stdout
    assert "test_expected_to_fail:" not in run.stdout


def test_in_ci_a_skip_whose_reason_is_listed_passes(suite):
    # Given CI and only the skip the allow-list names
    run = _run(suite, "1", "-k", "passes or allowed_reason")
    # Then the run passes
    assert run.returncode == 0, run.stdout


def test_outside_ci_skips_are_only_reported(suite):
    # Given no CI variable (or an explicit no)
    for ci in (None, "false"):
        run = _run(suite, ci)
        # Then the unlisted skip does not fail the run
        assert run.returncode == 0, run.stdout
        assert "skips CI does not allow" not in run.stdout


def test_an_allowed_skip_without_its_reason_why_is_a_usage_error(suite):
    # Given an allow-list line that does not say why CI may skip
    (suite / "allowed_skips.txt").write_text("cfn-lint is not installed\n")
    # When CI runs the suite
    run = _run(suite, "true")
    # Then pytest refuses to start, naming the line
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "allowed_skips.txt:1" in run.stderr
