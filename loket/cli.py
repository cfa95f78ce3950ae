"""The ``loket`` command line: one entry point, one sub-command module per area.

Each area module exposes ``add_parsers(sub)`` that registers its sub-commands with a
``func`` default taking the parsed namespace and returning the exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from pydantic import ValidationError

from loket import logs
from loket.settings import get_settings

# Modules that contribute sub-commands, in the order `loket --help` lists them.
_COMMAND_MODULES = (
    "loket.route.cli",
    "loket.cli_calendar",
    "loket.store.cli",
    "loket.devstack",
    "loket.analysis.cli",
    "loket.simulation.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loket", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        import_module(name).add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        fmt, level = get_settings().log_format, get_settings().log_level
    except ValidationError:  # the command that needs the settings reports it
        fmt, level = "text", "INFO"
    logs.configure(fmt, logging.DEBUG if args.verbose else level)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
