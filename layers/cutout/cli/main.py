"""`cutout`: the command-line entry point; dispatches to one module per command group."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cutout import __version__

# A one-verb module declares COMMAND (cutout.cli.command); one with verbs has register(subparsers).
# Either way the command runs `args.run`.
COMMAND_MODULES = ("cutout.cli.remove", "cutout.cli.serve", "cutout.cli.admin",
                   "cutout.cli.openapi", "cutout.cli.batch", "cutout.cli.privacy",
                   "cutout.cli.models", "cutout.cli.verify", "cutout.cli.preflight")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cutout",
        description="Privacy-first background removal: offline CLI, local API and admin tools.",
    )
    parser.add_argument("--version", action="version", version=f"cutout {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "COMMAND"):
            module.COMMAND.register(subparsers, module)
        else:
            module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
