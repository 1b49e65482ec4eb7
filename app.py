"""CDK entry point: read the deployment settings from context and build the cutout stack.

`python app.py` (or `cdk synth`) works with no Docker engine and no AWS account: assets are
staged, not built. The stack is named `cutout` unless `-c stack_name=...` says otherwise, so
one account can hold several deployments.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infrastructure.settings import DeploymentSettings, SettingsError
from infrastructure.stack import CutoutStack

DEFAULT_STACK_NAME = "cutout"
# Set in code, not only in cdk.json, so `python app.py` and tests build the same template.
FEATURE_FLAGS = {
    # S3 server access logs delivered under a bucket policy, so every bucket can keep
    # object ownership enforced (ACLs disabled).
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    # The batch's Distributed Map writes its results (ResultWriterV2): without the flag the
    # CDK leaves the ResultWriter out of the definition without a word.
    "@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2": True,
}


def build_app(app: cdk.App | None = None, *, nag: bool = True) -> tuple[cdk.App, CutoutStack]:
    """The app with its one stack; cdk-nag's AwsSolutions pack runs as a validation plugin."""
    app = app or cdk.App()
    for flag, value in FEATURE_FLAGS.items():
        app.node.set_context(flag, value)
    settings = DeploymentSettings.from_context(app.node.try_get_context)
    stack = CutoutStack(
        app, app.node.try_get_context("stack_name") or DEFAULT_STACK_NAME,
        settings=settings,
        description="cutout: private background-removal API in your own account",
    )
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    try:
        app, _ = build_app()
    except SettingsError as error:
        sys.exit(f"cutout: bad deployment setting: {error}")
    app.synth()


if __name__ == "__main__":
    main()
