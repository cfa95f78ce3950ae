"""The conventions every ``loket`` command shares (docs/cli.md): help, exit codes,
colours only on a terminal and never with NO_COLOR, progress bars only on a terminal."""

from __future__ import annotations

import logging
import os
import pty
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from loket.cli import build_app, main
from loket.settings import PROJECT_ROOT

ESC = "\x1b["
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# SGR colour parameters (foreground, background, 256 and true colour); bold is no colour.
COLOUR = re.compile(r"\x1b\[(?:[0-9]+;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]")
COMMANDS = {
    "validate", "schema", "analyze", "simulate", "calendar", "users", "migrate",
    "audit", "dev", "api", "worker", "openapi", "payments", "officials", "permits",
}  # fmt: skip


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _paths(sub, (*prefix, name))


ALL = list(_paths(typer.main.get_command(build_app())))


def test_the_commands_of_today_are_all_there() -> None:
    top = {path[0] for path in ALL if len(path) == 1}
    assert top == COMMANDS
    assert {p[1] for p in ALL if p[:1] == ("users",) and len(p) == 2} == {
        "add", "list", "deactivate", "reset-password", "set-counters",
    }  # fmt: skip
    assert {p[1] for p in ALL if p[:1] == ("calendar",) and len(p) == 2} == {"due", "elapsed"}
    assert {p[1] for p in ALL if p[:1] == ("audit",) and len(p) == 2} == {
        "keygen", "digest", "verify", "check",
    }  # fmt: skip
    assert {p[1] for p in ALL if p[:1] == ("officials",) and len(p) == 2} == {"add", "list", "seed"}
    assert {p[1] for p in ALL if p[:1] == ("permits",) and len(p) == 2} == {"list", "revoke"}


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "loket")
def test_every_command_has_help_without_colour_on_a_pipe(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    for flag in ("-h", "--help"):
        assert main([*path, flag]) == 0
        captured = capsys.readouterr()
        assert captured.out.lstrip().startswith(f"Usage: {' '.join(('loket', *path))}")
        assert ESC not in captured.out and captured.err == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "Usage: loket"),
        (["nope"], "No such command 'nope'"),
        (["calendar"], "Usage: loket calendar"),
        (["validate", "--frobnicate"], "No such option: --frobnicate"),
        (["users", "add", "x", "--name", "X"], "Missing option '--role'"),
        (["users", "add", "x", "--role", "boss", "--name", "X"], "'boss' is not one of"),
        (["calendar", "due", "2026-03-16T10:00+07:00"], "Missing argument"),
        (["simulate", "s.yaml", "--seed", "many"], "Invalid value for '--seed'"),
        (["dev", "--temporal-address", "h:1", "--temporal-port", "2"], "not both"),
        (["audit", "verify", "digest.json"], "Missing option '--public-key'"),
    ],
)
def test_usage_errors_exit_2_with_the_reason_on_stderr(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err + captured.out
    assert ESC not in captured.err


def test_invalid_input_exits_1_and_usage_errors_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = "tests/unit/broken_definitions/unknown_counter.yaml"
    assert main(["analyze", str(PROJECT_ROOT / broken)]) == 1
    assert "has no counter 'cashier'" in capsys.readouterr().err
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("name: broken\npermits: 3\n", encoding="utf-8")
    assert main(["simulate", str(scenario)]) == 1
    assert "working_days: required key is missing" in capsys.readouterr().err
    assert main(["simulate", str(tmp_path / "none.yaml")]) == 2
    assert main(["analyze", str(tmp_path / "none.yaml")]) == 2
    assert main(["schema", "--output", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert err.endswith(f"loket schema: not a folder: {scenario}\n")


def test_verbose_turns_on_debug_logging(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-v", "calendar", "due", "2026-03-16T10:00+07:00", "3d"]) == 0
    assert logging.getLogger().level == logging.DEBUG
    assert main(["--verbose", "calendar", "due", "2026-03-16T10:00+07:00", "3d"]) == 0
    assert main(["calendar", "due", "2026-03-16T10:00+07:00", "3d"]) == 0
    assert logging.getLogger().level != logging.DEBUG
    assert "due: 2026-03-26T10:00:00+07:00" in capsys.readouterr().out


def test_the_console_script_is_main() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"] == {"loket": "loket.cli:main"}


# --- on a terminal ------------------------------------------------------------------------


def _on_a_tty(*argv: str, no_color: bool = False, tty_stderr: bool = False) -> tuple[str, str]:
    """Run ``loket ARGV`` with stdout (or only stderr) on a pseudo-terminal: (tty, pipe)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(TERM="xterm-256color", COLUMNS="100", **({"NO_COLOR": "1"} if no_color else {}))
    master, slave = pty.openpty()
    pipe = subprocess.PIPE
    process = subprocess.Popen(
        [sys.executable, "-m", "loket.cli", *argv],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=pipe if tty_stderr else slave,
        stderr=slave if tty_stderr else pipe,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    piped = (process.stdout if tty_stderr else process.stderr).read()  # type: ignore[union-attr]
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode(), piped.decode()


@pytest.mark.slow
def test_colours_on_a_terminal_and_never_with_no_color() -> None:
    shown, _ = _on_a_tty("validate", "definitions")
    assert f"{ESC}32mvalid" in shown  # 'valid' in green
    plain, _ = _on_a_tty("validate", "definitions", no_color=True)
    assert ESC not in plain and plain.strip().endswith("6 agencies: valid")
    help_shown, _ = _on_a_tty("--help")
    assert COLOUR.search(help_shown)
    help_plain, _ = _on_a_tty("--help", no_color=True)
    assert not COLOUR.search(help_plain) and "validate" in help_plain


@pytest.mark.slow
def test_progress_bar_on_a_terminal_stderr_only() -> None:
    paths = ("definitions/permits/pbg.yaml", "definitions/permits/sip.yaml")
    bar, out = _on_a_tty("validate", *paths, tty_stderr=True)
    assert "validate ━" in ANSI.sub("", bar) and "2/2 paths" in ANSI.sub("", bar)
    assert out == f"{', '.join(paths)}: 2 permit types, 6 agencies: valid\n"  # stdout untouched
    assert ESC not in out
