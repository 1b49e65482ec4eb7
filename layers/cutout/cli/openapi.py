"""`cutout openapi`: print or write the API's OpenAPI 3.1 document, generated from the code."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cutout.cli.command import Command

COMMAND = Command(
    help="print the API's OpenAPI 3.1 document (generated from the code)",
    description="Print the OpenAPI 3.1 document of the API as JSON, built from the "
    "routes, options, errors and views the code defines.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="write the document to this file instead of standard output")
    parser.add_argument("--docs", type=Path, default=None, metavar="API_MD",
                        help="also rewrite the generated error tables of this page (docs/api.md)")


def render() -> str:
    """The document as the committed `openapi.json` holds it: indented JSON ending in a newline."""
    from cutout.openapi.builder import build_document  # loads the engine: only when asked

    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace) -> int:
    text = render()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"cutout openapi: wrote {args.output}", file=sys.stderr)
    if args.docs is not None:
        from cutout.openapi.doc_tables import with_error_tables

        args.docs.write_text(with_error_tables(args.docs.read_text(encoding="utf-8")),
                             encoding="utf-8")
        print(f"cutout openapi: rewrote the error tables of {args.docs}", file=sys.stderr)
    return 0
