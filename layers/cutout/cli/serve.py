"""`cutout serve`: the whole API on 127.0.0.1 with moto for S3, DynamoDB and KMS.

Same handlers and same events as in AWS. Prints the base URL, the demo key and a ready
curl command; Ctrl-C or SIGTERM stops the API and moto and frees both ports.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
from typing import Any

from cutout.cli.command import Command
from cutout.local.authorizer import DEFAULT_TTL_SECONDS
from cutout.local.demo import DEMO_KEY_ENV, check_demo_key
from cutout.local.functions import FUNCTIONS_DIR_ENV
from cutout.local.moto_stack import CATALOGUE_BUCKET, check_catalogue_bucket
from cutout.local.stack import LocalStack, PortUnavailable, RunningStack, require_loopback

COMMAND = Command(
    help="run the API locally (moto stands in for AWS)",
    description="Run the API on this machine: API Gateway, authorizer and handlers "
    "in-process, moto on loopback for S3, DynamoDB and KMS, a demo account and key.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", type=_loopback,
                        help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="API port (default 8080)")
    parser.add_argument("--api-key", default=None,
                        help=f"use this demo API key instead of a random one "
                        f"(default: ${DEMO_KEY_ENV} if set)")
    parser.add_argument("--moto-port", type=int, default=0,
                        help="port for moto (default: any free port)")
    parser.add_argument("--authorizer-ttl", type=int, default=DEFAULT_TTL_SECONDS,
                        help="seconds an authorizer answer is cached, as API Gateway does "
                        f"(default {DEFAULT_TTL_SECONDS}; 0 turns the cache off)")
    parser.add_argument("--catalogue-bucket", default=CATALOGUE_BUCKET, type=_catalogue_bucket,
                        metavar="NAME",
                        help="the moto bucket standing in for yours: on the source allow-list "
                        "(image_url, batches) and the batch destinations "
                        f"(default {CATALOGUE_BUCKET})")
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")


def run(args: argparse.Namespace) -> int:
    """Start everything, print how to use it, serve until Ctrl-C or SIGTERM."""
    api_key = args.api_key or os.environ.get(DEMO_KEY_ENV) or None
    if api_key is not None:
        try:
            check_demo_key(api_key)
        except ValueError as error:
            print(f"cutout serve: {error}", file=sys.stderr)
            return 2
    stack = LocalStack(args.host, args.port, args.moto_port, api_key,
                       args.authorizer_ttl, args.quiet, args.catalogue_bucket)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        try:
            running = stack.start()
        except FileNotFoundError as missing:
            print(f"cutout serve: {missing}; run it from a checkout of the repository or "
                  f"set {FUNCTIONS_DIR_ENV} to its functions/ folder", file=sys.stderr)
            return 1
        except PortUnavailable as busy:
            print(f"cutout serve: {busy}", file=sys.stderr)
            return 1
        print(banner(running), flush=True)
        stack.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C or SIGTERM must not cut the cleanup short and leave a port bound.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    print("cutout serve: stopped", file=sys.stderr, flush=True)
    return 0


def banner(running: RunningStack) -> str:
    """What the user reads: where the API is, the key, a curl command that works as is."""
    base, key, aws = running.base_url, running.demo.api_key, running.resources
    routes = "\n".join(f"    {route.method:<5} {base}{route.path}" for route in running.routes)
    exports = " ".join(f"{name}={shlex.quote(value)}"
                       for name, value in sorted(aws.environment().items()))
    by_url = f"s3://{aws.catalogue_bucket}/{running.demo.account_id}/photo.jpg"
    return f"""cutout local API ready at {base}
  account page: {base}/account   (open it in a browser and paste the API key below)
  routes:
{routes}
  API key:  {key}   (account "{running.demo.account_id}")
  AWS:      moto at {aws.endpoint_url} (S3, DynamoDB, KMS, Step Functions, Lambda; in memory)

Remove a background:
  curl -sS -X POST {base}/v1/remove-background \\
    -H {shlex.quote('x-api-key: ' + key)} -H 'Content-Type: image/jpeg' \\
    --data-binary @photo.jpg -o cutout.png

Or name an image in S3 by image_url: one under the demo account's folder of the allow-listed
bucket {aws.catalogue_bucket} (copy it there with the AWS CLI, after the export below):
  aws s3 cp photo.jpg {by_url}
  curl -sS -X POST {base}/v1/remove-background \\
    -H {shlex.quote('x-api-key: ' + key)} -H 'Content-Type: application/json' \\
    -d {shlex.quote(json.dumps({"image_url": by_url}))} -o cutout-by-url.png

Admin CLI or boto3 against this stack:
  export {exports}

Ctrl-C stops the API and moto."""


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _catalogue_bucket(name: str) -> str:
    try:
        return check_catalogue_bucket(name)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _loopback(host: str) -> str:
    try:
        return require_loopback(host)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
