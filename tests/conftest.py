"""Every test folder: in CI, a skipped test fails the run unless its reason is allowed.

A test that skips because a tool is missing proves nothing, and on a fresh machine nobody
notices. With `CI` set (CI sets it; `.ci/run` too), each skip's reason must contain a line
of `tests/allowed_skips.txt` (a substring of the reason, then ` -- ` and why CI may skip
it); any other skip is listed at the end and the session fails. Locally, skips are only
reported, as pytest always does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ALLOWED_SKIPS = Path(__file__).with_name("allowed_skips.txt")
# Where the `cutout serve` processes of the e2e tests write their functions' AWS calls
# (tests/e2e/aws_calls), read by tests/integration/test_least_privilege.py: one per session.
# Created here (and removed when the session ends) unless the caller named one.
AWS_CALLS_FOLDER = None if os.environ.get("CUTOUT_TEST_AWS_CALLS") else tempfile.mkdtemp(
    prefix="cutout-aws-calls-")
if AWS_CALLS_FOLDER:
    os.environ["CUTOUT_TEST_AWS_CALLS"] = AWS_CALLS_FOLDER


def in_ci() -> bool:
    """Whether this run is CI's (`CI` set to anything but an explicit no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def allowed_reasons(path: Path = ALLOWED_SKIPS) -> list[str]:
    """The reason substrings of the allow-list; a line without its ` -- why` is an error."""
    reasons = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        reason, _, why = line.partition(" -- ")
        if not reason.strip() or not why.strip():
            raise pytest.UsageError(
                f"{path}:{number}: write '<reason substring> -- <why CI may skip it>'")
        reasons.append(reason.strip())
    return reasons


def skip_reason(report: pytest.TestReport) -> str:
    """The text a skip was given (`pytest.skip(reason)`, `importorskip`, a skip mark)."""
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def unlisted_skips(skips: list[tuple[str, str]], allowed: list[str]) -> list[tuple[str, str]]:
    """The (test, reason) pairs whose reason contains none of the allowed substrings."""
    return [(test, reason) for test, reason in skips
            if not any(substring in reason for substring in allowed)]


class SkipAudit:
    """Collects every skip of the session; in CI, fails the session on an unlisted one."""

    def __init__(self, allowed: list[str]) -> None:
        self.allowed = allowed
        self.skips: list[tuple[str, str]] = []
        self.unlisted: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skips.append((report.nodeid, skip_reason(report)))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.unlisted = unlisted_skips(self.skips, self.allowed)
        if self.unlisted and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.unlisted:
            return
        terminalreporter.section("skips CI does not allow", red=True, bold=True)
        for test, reason in self.unlisted:
            terminalreporter.line(f"{test}: {reason}")
        terminalreporter.line(
            "Declare what these tests need in pyproject.toml's dev extra, or list the reason "
            f"in {ALLOWED_SKIPS.name} with why CI may skip it.")


def pytest_configure(config: pytest.Config) -> None:
    if in_ci():
        config.pluginmanager.register(SkipAudit(allowed_reasons()), "cutout-skip-audit")


def pytest_unconfigure(config: pytest.Config) -> None:
    if AWS_CALLS_FOLDER:
        shutil.rmtree(AWS_CALLS_FOLDER, ignore_errors=True)
