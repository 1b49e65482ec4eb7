"""One way to declare a `cutout` command: its name, its help, and the function that runs it."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Subparsers = argparse._SubParsersAction  # argparse's own (private) name for `add_subparsers()`
Run = Callable[[argparse.Namespace], int]


def add_command(subparsers: Subparsers, name: str, help: str, description: str,
                run: Run) -> argparse.ArgumentParser:
    """A command's parser, already dispatching to `run` (`cutout.cli.main` calls `args.run`)."""
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(run=run)
    return parser
