"""``loket calendar due|elapsed`` through the real entry point."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loket.calendar_data import covered_years, load_calendar
from loket.cli import main
from loket.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, str], str]:
    code = main(["calendar", *argv])
    captured = capsys.readouterr()
    fields = dict(line.split(": ", 1) for line in captured.out.splitlines() if ": " in line)
    return code, fields, captured.err


def expected_version() -> str:
    return load_calendar(DEFINITIONS, *covered_years(DEFINITIONS)).version


def test_due_across_idul_fitri_2026(capsys: pytest.CaptureFixture[str]) -> None:
    # Tuesday 17 March 2026: then cuti bersama Nyepi (18), Nyepi (19), cuti bersama (20),
    # Idul Fitri (21-22), cuti bersama (23, 24). Days one to three: 25, 26, 27 March.
    code, out, err = run(capsys, "due", "2026-03-17T10:00+07:00", "3d")
    assert code == 0, err
    assert out["due"] == "2026-03-27T10:00:00+07:00"
    assert out["due_local"] == "Fri 27 Mar 2026 10:00 WIB"
    assert out["duration"] == "3d"
    assert out["working_hours"] == "24"
    assert out["calendar"].startswith(expected_version() + " (WIB, UTC+7, ")


def test_due_example_from_the_docs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "due", "2026-03-16T10:00+07:00", "3d")
    assert code == 0
    assert out["due"] == "2026-03-26T10:00:00+07:00"


def test_due_in_hours_from_another_offset(capsys: pytest.CaptureFixture[str]) -> None:
    # 18:00 UTC on Thursday 19 March is Friday 01:00 WIB, a cuti bersama day: the count
    # starts Wednesday 25 March 08:00.
    code, out, _ = run(capsys, "due", "2026-03-19T18:00+00:00", "4h")
    assert code == 0
    assert out["counted_from"] == "2026-03-25T08:00:00+07:00"
    assert out["due"] == "2026-03-25T12:00:00+07:00"


def test_elapsed_across_idul_fitri(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "elapsed", "2026-03-17T15:00+07:00", "2026-03-25T09:30+07:00")
    assert code == 0
    assert out["elapsed"] == "2:30:00"
    assert out["working_hours"] == "2.5"
    assert out["whole_working_days"] == "0"
    assert out["calendar"].startswith(expected_version())


def test_definitions_override_and_years(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(DEFINITIONS / "calendar.yaml", tmp_path / "calendar.yaml")
    code, out, err = run(
        capsys,
        "due",
        "2026-03-17T10:00+07:00",
        "3d",
        "--definitions",
        str(tmp_path),
        "--years",
        "2026-2026",
    )
    assert code == 0, err
    assert out["due"] == "2026-03-27T10:00:00+07:00"
    assert out["calendar"].endswith("(WIB, UTC+7, 2026-2026)")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("due", "2026-03-16T10:00", "3d"), "give the UTC offset"),
        (("due", "tomorrow", "3d"), "not an ISO date-time"),
        (("due", "2026-03-16T10:00+07:00", "3 weeks"), "not a working duration"),
        (("due", "2026-03-16T10:00+07:00", "0d"), "positive whole number"),
        (("due", "2024-03-16T10:00+07:00", "1d"), "outside calendar"),
        (("elapsed", "2026-03-17T10:00+07:00", "2026-03-16T10:00+07:00"), "before 'from'"),
        (("due", "2026-03-16T10:00+07:00", "3d", "--years", "soon"), "--years"),
        (("due", "2026-03-16T10:00+07:00", "3d", "--definitions", "/nonexistent"), "cannot read"),
    ],
)
def test_bad_input_exits_2_with_message(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == {}
    assert message in err
