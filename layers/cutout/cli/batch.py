"""`cutout batch start|status|wait|report`: catalogue jobs through the API, with a progress bar.

Talks to `POST /v1/batches` and `GET /v1/batches/{id}` of a deployed stack (its `ApiUrl`
output) or of `cutout serve` (the default URL), with an API key from `--api-key` or the
environment. Only the standard library speaks HTTP here: the CLI needs no extra package.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from typing import Any

from cutout.cli.api_client import API_KEY_ENV, API_URL_ENV, DEFAULT_API_URL, ApiCallFailed, call_api
from cutout.local.demo import DEMO_KEY_ENV

ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def register(subparsers: Any) -> None:
    """Add `batch` and its four verbs to the `cutout` parser."""
    parser = subparsers.add_parser(
        "batch", help="cut out a whole S3 prefix (a catalogue job) through the API",
        description="Start and follow catalogue jobs: every image under an S3 prefix, cut "
        "out into another prefix, on Step Functions (moto's interpreter on the local stack).")
    parser.add_argument("--api-url", default=os.environ.get(API_URL_ENV, DEFAULT_API_URL),
                        help=f"the API's base URL (a stack's ApiUrl output; default "
                        f"${API_URL_ENV} or {DEFAULT_API_URL}, i.e. cutout serve)")
    parser.add_argument("--api-key", default=None,
                        help=f"API key (default ${API_KEY_ENV}, then ${DEMO_KEY_ENV})")
    verbs = parser.add_subparsers(title="verbs", metavar="VERB", required=True)

    start = verbs.add_parser("start", help="start a job; prints its id")
    start.add_argument("source", help="s3://bucket/<account id>/prefix/ to read images from")
    start.add_argument("destination", help="s3://bucket/<account id>/prefix/ to write "
                       "cutouts to (under <account id>/cutouts/ when the bucket is also a source)")
    start.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                       help="a removal option (format=webp, size=full, bg_color=#fff...)")
    start.add_argument("--overwrite", action="store_true",
                       help="write outputs that already exist (default: skip them)")
    start.add_argument("--wait", action="store_true", help="then follow it with a progress bar")
    start.set_defaults(run=run_start)

    for name, run, text in (("status", run_status, "print a job's state and totals"),
                            ("wait", run_wait, "follow a job with a progress bar to its end"),
                            ("report", run_report, "print a job's failures: key and code")):
        verb = verbs.add_parser(name, help=text)
        verb.add_argument("batch_id")
        verb.set_defaults(run=run)


def run_start(args: argparse.Namespace) -> int:
    options = dict(_option(text) for text in args.option)
    body = {"source": args.source, "destination": args.destination, "options": options,
            "overwrite": args.overwrite}
    job = _call(args, "POST", "/v1/batches", body)
    print(json.dumps(job, indent=2))
    return _follow(args, job["batch_id"]) if args.wait else 0


def run_status(args: argparse.Namespace) -> int:
    print(json.dumps(_call(args, "GET", f"/v1/batches/{args.batch_id}"), indent=2))
    return 0


def run_wait(args: argparse.Namespace) -> int:
    return _follow(args, args.batch_id)


def run_report(args: argparse.Namespace) -> int:
    status = _call(args, "GET", f"/v1/batches/{args.batch_id}")
    if status["state"] not in ENDED:
        print(f"cutout: batch {args.batch_id} is still {status['state']}; the report comes "
              "when it ends", file=sys.stderr)
        return 1
    while status.get("report_state") == "preparing":  # merged a step per status read
        time.sleep(0.5)
        status = _call(args, "GET", f"/v1/batches/{args.batch_id}")
    if not status["report_url"]:
        print("no failures", file=sys.stderr)
        return 0
    with urllib.request.urlopen(status["report_url"], timeout=60) as response:  # noqa: S310
        report = json.loads(response.read())
    for failure in report["failures"]:
        print(f"{failure['key']}\t{failure['error']}")
    return 0


def _follow(args: argparse.Namespace, batch_id: str, interval: float = 1.0) -> int:
    """A progress bar over listed items until the job ends; 0 when it succeeded."""
    from tqdm import tqdm

    with tqdm(unit="image", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        while True:
            status = _call(args, "GET", f"/v1/batches/{batch_id}")
            totals = status["totals"]
            bar.total = totals["listed"]
            bar.n = totals["done"] + totals["skipped"] + totals["failed"]
            bar.set_postfix(done=totals["done"], skipped=totals["skipped"],
                            failed=totals["failed"], refresh=False)
            bar.refresh()
            if status["state"] in ENDED:
                break
            time.sleep(interval)
    print(json.dumps(status, indent=2))
    return 0 if status["state"] == "SUCCEEDED" else 1


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> dict:
    key = args.api_key or os.environ.get(API_KEY_ENV) or os.environ.get(DEMO_KEY_ENV)
    if not key:
        raise SystemExit(f"cutout: no API key: pass --api-key or set {API_KEY_ENV}")
    try:
        answer: dict = call_api(args.api_url, key, method, path, body)
    except ApiCallFailed as error:
        raise SystemExit(f"cutout: {method} {path}: {error}") from None
    return answer


def _option(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise SystemExit(f"cutout: --option takes NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()
