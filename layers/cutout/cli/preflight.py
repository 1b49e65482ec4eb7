"""`cutout preflight`: before `cdk deploy`, find what would make it fail (quotas, Docker or
Finch, Node, the CDK bootstrap), each with a sentence saying how to fix it.

It reads the deployment settings from cdk.json's context in the current folder (the
repository), as `cdk deploy` would, so it runs from where you deploy.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cutout.cli.command import Command

COMMAND = Command(
    help="check, before cdk deploy, what would make it fail",
    description="Check the account's Lambda memory and concurrency quotas against the "
    "deployment settings (cdk.json), Docker or Finch, Node and the CDK bootstrap stack.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default=None, help="the region to deploy to")
    parser.add_argument("--cdk-json", type=Path, default=Path("cdk.json"),
                        help="the CDK app's cdk.json, for the settings (default ./cdk.json)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report here")


def run(args: argparse.Namespace) -> int:
    import boto3

    from cutout.verify import preflight
    from cutout.verify.report import Report

    try:
        settings, model, model_memory = _settings(args.cdk_json)
    except (OSError, ValueError) as error:  # SettingsError is a ValueError too
        print(f"cutout preflight: cannot read the deployment settings: {error}", file=sys.stderr)
        return 2
    session = boto3.session.Session(region_name=args.region)
    region = session.region_name or "us-east-1"
    report = Report(f"cutout preflight: {region}")
    report.checks += [preflight.container_builder(), preflight.node()]
    try:
        report.checks += [
            preflight.lambda_memory(session.client("service-quotas"),
                                    settings.inference_memory_mb, model, model_memory),
            preflight.concurrency(session.client("lambda"), {
                "inference_reserved_concurrency": settings.inference_reserved_concurrency,
                "authorizer_reserved_concurrency": settings.authorizer_reserved_concurrency}),
            preflight.bootstrap(session.client("cloudformation"), region)]
    except (ClientError, BotoCoreError) as error:
        print(f"cutout preflight: cannot read the account: {error}", file=sys.stderr)
        return 2
    return report.publish(args.json)


def _settings(cdk_json: Path) -> tuple[Any, str, int]:
    """The deployment settings as `cdk deploy` reads them, and the chosen model's memory."""
    repository = str(cdk_json.resolve().parent)  # the CDK app's folder holds infrastructure/
    if repository not in sys.path:
        sys.path.insert(0, repository)
    try:
        from infrastructure.model_image import chosen_model
        from infrastructure.settings import DeploymentSettings
    except ImportError as error:
        raise ValueError(f"run it from the cutout repository with the cdk extra installed "
                         f"(pip install -e '.[cdk]'): {error}") from None

    context = json.loads(cdk_json.read_text()).get("context", {})
    settings = DeploymentSettings.from_context(context.get)
    spec = chosen_model(settings)
    return settings, spec.name, spec.memory_mb
