"""`cutout privacy`: print a deployment's privacy answers, ready to paste into a questionnaire.

Asks `GET /v1/privacy` of the API (the local stack by default, or a deployed one with
`--url`), so the answers are the ones the deployment itself derives from its settings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from typing import Any

from cutout.cli.api_client import API_KEY_ENV as KEY_ENV
from cutout.cli.api_client import API_URL_ENV as URL_ENV
from cutout.cli.api_client import DEFAULT_API_URL as DEFAULT_URL
from cutout.cli.api_client import ApiCallFailed, call_api
from cutout.cli.command import Command

WIDTH = 88


COMMAND = Command(
    help="print a deployment's privacy answers (upload, retention, training, ...)",
    description="Ask a cutout API (local or deployed) where images go: the answers its "
    "account page shows, derived from the deployment's real settings.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=os.environ.get(URL_ENV, DEFAULT_URL),
                        help=f"the API's base URL, stage included (default ${URL_ENV} or "
                        f"{DEFAULT_URL}, the local stack)")
    parser.add_argument("--key", default=None,
                        help=f"an API key of the deployment (default ${KEY_ENV})")
    parser.add_argument("--json", action="store_true",
                        help="print the JSON document (answers and facts) instead of text")


def run(args: argparse.Namespace) -> int:
    key = args.key or os.environ.get(KEY_ENV)
    if not key:
        print(f"cutout privacy: give an API key with --key or ${KEY_ENV}", file=sys.stderr)
        return 2
    base = args.url.rstrip("/")
    if not base.startswith(("https://", "http://")):
        print(f"cutout privacy: --url must be http(s), got {args.url!r}", file=sys.stderr)
        return 2
    try:
        document = fetch_privacy(base, key)
    except PrivacyUnavailable as error:
        print(f"cutout privacy: {error}", file=sys.stderr)
        return 1
    print(json.dumps(document, indent=2) if args.json else format_answers(document, base))
    return 0


class PrivacyUnavailable(Exception):
    """The API could not be reached or refused the request (the message says which)."""


def fetch_privacy(base_url: str, key: str) -> dict[str, Any]:
    """`GET <base_url>/v1/privacy` with the key in x-api-key (never in the URL)."""
    try:
        document: dict[str, Any] = call_api(base_url, key, "GET", "/v1/privacy", timeout=30)
    except ApiCallFailed as error:
        raise PrivacyUnavailable(str(error)) from None
    return document


def format_answers(document: dict[str, Any], base_url: str) -> str:
    """The answers as plain text: each question, then its answer indented and wrapped."""
    lines = [f"Where images go: privacy answers of the cutout deployment at {base_url}", ""]
    for answer in document["answers"]:
        lines.append(answer["question"])
        lines.extend(_wrap(answer["answer"], "  "))
        lines.append("")
    facts = document.get("facts", {})
    if facts:
        lines.append("Facts behind these answers:")
        for name, value in facts.items():
            shown = "; ".join(value) if isinstance(value, list) else value
            lines.extend(_wrap(f"{name}: {shown}", "    ", first="  "))
    return "\n".join(lines)


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    """Wrapped at spaces only: an ARN or a policy name stays whole, for copying."""
    return textwrap.wrap(text, WIDTH, initial_indent=indent if first is None else first,
                         subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)

