"""The ``loket`` command line: one typer app, one sub-command module per area.

Each area module exposes ``register(app)`` that adds its commands to the app. Exit codes,
colours and progress bars follow loket.cli_common (documented in docs/cli.md).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Annotated

import typer
from pydantic import ValidationError

from loket import logs
from loket.cli_common import EXIT_OK, new_app
from loket.settings import get_settings

# Modules that contribute sub-commands, in the order `loket --help` lists them.
_COMMAND_MODULES = (
    "loket.route.cli",
    "loket.analysis.cli",
    "loket.simulation.cli",
    "loket.cli_calendar",
    "loket.store.cli",
    "loket.cli_audit",
    "loket.cli_payments",
    "loket.cli_permits",
    "loket.cli_run",
)


def _root(
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="debug logging")] = False,
) -> None:
    try:
        fmt, level = get_settings().log_format, get_settings().log_level
    except ValidationError:  # the command that needs the settings reports it
        fmt, level = "text", "INFO"
    logs.configure(fmt, logging.DEBUG if verbose else level)


def build_app() -> typer.Typer:
    app = new_app(
        "Loket: permit routing on Temporal. Exit codes: 0 done, 1 refused or "
        "invalid (reason on stderr), 2 usage error. See docs/cli.md."
    )
    app.callback()(_root)
    for name in _COMMAND_MODULES:
        import_module(name).register(app)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code (usage errors included: they do not raise)."""
    command = typer.main.get_command(build_app())
    try:
        command.main(args=list(argv) if argv is not None else None, prog_name="loket")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or EXIT_OK
        sys.stderr.write(f"{exc.code}\n")
        return 1
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
