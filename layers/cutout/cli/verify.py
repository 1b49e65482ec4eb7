"""`cutout verify`: check a deployed stack's real resources (and, with a key, its live
behaviour) against every promise, or probe a local `cutout serve` (docs/verify.md).

Read-only: it lists, describes and gets; it never writes. The report names resources and
values, never a key, a signed link or image bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cutout.cli.api_client import API_KEY_ENV
from cutout.cli.command import Command

COMMAND = Command(
    help="check a deployment's real resources and behaviour against each promise",
    description="Read the deployed stack's resources with your AWS credentials and check "
    "each privacy promise against what exists (read-only); with an API key, also probe "
    "the live API. Exit 0 only when no check fails.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack-name", help="the deployed CloudFormation stack (e.g. cutout)")
    where.add_argument("--local", metavar="URL",
                       help="probe a `cutout serve` API at URL instead (live probes only)")
    parser.add_argument("--region", default=None, help="the stack's region (default: boto3's)")
    parser.add_argument("--api-key", default=None,
                        help=f"an API key for the live probes (default ${API_KEY_ENV})")
    parser.add_argument("--moto-endpoint", default=None,
                        help="with --local: the local stack's moto URL, to look in its "
                        "transient bucket")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report here")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="write the Markdown report (for a reviewer) here")


def run(args: argparse.Namespace) -> int:
    from cutout.verify.probes import Target
    from cutout.verify.runner import verify_local, verify_stack
    from cutout.verify.stack import aws_clients, deployment

    key = args.api_key or os.environ.get(API_KEY_ENV)
    try:
        if args.local:
            if not key:
                print(f"cutout verify: --local needs --api-key or ${API_KEY_ENV}", file=sys.stderr)
                return 2
            report = verify_local(Target(args.local, key, *_local_bucket(args.moto_endpoint)))
        else:
            clients = aws_clients(args.region)
            cloudformation = _cloudformation(args.region)
            report = verify_stack(deployment(args.stack_name, clients, cloudformation), key)
    except (ClientError, BotoCoreError) as error:
        print(f"cutout verify: cannot read the stack: {error}", file=sys.stderr)
        return 2
    return report.publish(args.json, args.markdown)


def _cloudformation(region: str | None) -> Any:
    import boto3

    return boto3.client("cloudformation", region_name=region)


def _local_bucket(moto_endpoint: str | None) -> tuple[Any, str | None]:
    """The local stack's S3 and transient bucket, when its moto is named."""
    if not moto_endpoint:
        return None, None
    import boto3

    from cutout.local.moto_stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY, TRANSIENT_BUCKET

    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    return s3, TRANSIENT_BUCKET
