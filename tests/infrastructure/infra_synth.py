"""Shared synthesis for the infrastructure tests: one synth per module, nag included.

Each test module synthesizes once (about 10 s) in a module-scoped fixture and asserts on the
template; `synthesize` never raises on a cdk-nag failure, it returns the report so that a
test can show which rule failed where.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import assertions

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Synth:
    """A synthesized cutout stack: the template and cdk-nag's findings."""

    template: assertions.Template
    raw: dict[str, Any]
    violations: list[dict[str, Any]]
    outdir: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.raw["Resources"].items() if v["Type"] == kind}

    def one(self, kind: str) -> dict[str, Any]:
        found = list(self.resources(kind).values())
        assert len(found) == 1, f"expected one {kind}, found {len(found)}"
        return found[0]["Properties"]


def synthesize(**settings: Any) -> Synth:
    """Synthesize the app with `cutout:<name>` context overrides, like `cdk -c` would."""
    from app import build_app

    outdir = Path(tempfile.mkdtemp(prefix="cutout-cdk-"))
    context = {f"cutout:{name}": value for name, value in settings.items()}
    app, stack = build_app(cdk.App(outdir=str(outdir), context=context))
    try:
        app.synth()
    except RuntimeError as error:  # cdk-nag findings: the report below says which
        if "Validation failed" not in str(error):
            raise
    raw = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    report = json.loads((outdir / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    return Synth(assertions.Template.from_json(raw), raw, violations, outdir)


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['severity']} {v['ruleName']}: "
        f"{', '.join(c['constructPath'] for c in v['violatingConstructs'])}"
        for v in violations)


def statements(synth: Synth, role_fragment: str) -> list[dict[str, Any]]:
    """Every IAM statement attached to the role(s) whose logical id contains the fragment."""
    found = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"]["Roles"])
        if role_fragment in roles:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def cfn_lint_errors(synth: Synth) -> list[str] | None:
    """cfn-lint's errors (not warnings) on the template; None when cfn-lint is not installed."""
    executable = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    if executable is None:
        return None
    result = subprocess.run(
        [executable, "--format", "parseable", "--regions", "eu-west-1", "--",
         str(synth.outdir / "cutout.template.json")],
        capture_output=True, text=True, timeout=300)
    return [line for line in result.stdout.splitlines() if ":E" in line]


def assert_no_foreign_cors(synth) -> None:
    """Only the transient bucket may carry a CORS rule, and it admits only the API's origin.

    The withdrawn cors_allowed_origins setting let any listed origin call S3 from a page.
    """
    for name, bucket in synth.resources("AWS::S3::Bucket").items():
        rules = bucket["Properties"].get("CorsConfiguration", {}).get("CorsRules", [])
        if rules:
            assert name.startswith("StorageTransientBucket"), name
        for rule in rules:
            origins = json.dumps(rule["AllowedOrigins"])
            assert "*" not in origins and "example.com" not in origins.replace(
                "api.example.com", ""), origins
            assert "execute-api" in origins or "https://api.example.com" in origins, origins
