"""One way to declare a one-verb `cutout` command: the module states its help, its
arguments and its `run`; the parser entry, named after the module, is made here once."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from types import ModuleType

Subparsers = argparse._SubParsersAction  # argparse's own (private) name for `add_subparsers()`


@dataclass(frozen=True)
class Command:
    """A command module's `COMMAND`; the module also defines `add_arguments(parser)` and
    `run(args)` (`cutout.cli.main` calls `args.run`)."""

    help: str
    description: str

    def register(self, subparsers: Subparsers, module: ModuleType) -> None:
        name = module.__name__.rpartition(".")[2]
        parser = subparsers.add_parser(name, help=self.help, description=self.description)
        module.add_arguments(parser)
        parser.set_defaults(run=module.run)
