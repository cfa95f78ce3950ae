"""What every ``loket`` command shares: exit codes, output, colours, progress bars.

Exit codes (docs/cli.md): 0 done; 1 refused, invalid or failed (the reason on stderr);
2 a usage error (unknown option, bad argument value, no such file); 130 interrupted.
Colours only on a terminal and never with ``NO_COLOR`` set; progress bars only on a
terminal, on stderr, so piped output stays plain.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import IO, ParamSpec

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Same help flags everywhere (argparse had -h too).
CONTEXT = {"help_option_names": ["-h", "--help"]}

P = ParamSpec("P")

# Called with (done, total) as work advances.
Advance = Callable[[int, int], None]


def exits(func: Callable[P, int]) -> Callable[P, None]:
    """A command body returning its exit code, as typer wants it (``typer.Exit``)."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        raise typer.Exit(func(*args, **kwargs))

    return run


def new_app(help_text: str) -> typer.Typer:
    """A command group with the shared conventions."""
    return typer.Typer(
        help=help_text,
        context_settings=CONTEXT,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )


def doc_help(doc: str | None) -> str:
    """A module docstring as command help: paragraphs joined, ``literals`` unquoted."""
    paragraphs = (doc or "").replace("``", "").strip().split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def colours_on(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _stream(err: bool) -> IO[str]:
    return typer.get_text_stream("stderr" if err else "stdout")


def styled(text: str, colour: str, *, err: bool = False, bold: bool = False) -> str:
    """``text`` in ``colour`` when the stream it goes to shows colours."""
    if not colours_on(_stream(err)):
        return text
    return typer.style(text, fg=colour, bold=bold or None)


def out(text: str = "", *, nl: bool = True) -> None:
    typer.echo(text, nl=nl)


def err(text: str) -> None:
    typer.echo(text, err=True)


def fail(command: str, message: object, code: int = EXIT_REFUSED) -> int:
    """``loket COMMAND: message`` on stderr; the exit code."""
    err(f"{styled('loket ' + command, 'red', err=True)}: {message}")
    return code


@contextlib.contextmanager
def progress(
    label: str, *, unit: str = "", show: bool = True, force: bool = False
) -> Iterator[Advance]:
    """A progress bar on stderr when it is a terminal (or ``force``), else nothing.

    Forced on a pipe or a file, rich writes the final state once instead of redrawing.
    """
    console = Console(stderr=True, highlight=False)
    if not (force or (show and console.is_terminal)):
        yield lambda done, total: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeRemainingColumn(elapsed_when_finished=True),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
