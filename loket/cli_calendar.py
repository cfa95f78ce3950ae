"""``loket calendar due|elapsed``: recompute working-time deadlines as the engine does.

Every answer names the calendar version it used, so an inspector can check a recorded
deadline against the version the permit recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from loket.calendar import WorkCalendar, WorkDuration
from loket.calendar_data import covered_years, load_calendar
from loket.cli_common import EXIT_OK, EXIT_USAGE, exits, fail, new_app, out
from loket.settings import get_settings

# Every input problem (a malformed instant, an instant outside the loaded years, a missing
# calendar) is a usage error: the command never refuses a well-formed question.
EXIT_BAD_INPUT = EXIT_USAGE


class _BadInput(ValueError):
    pass


@dataclass(frozen=True)
class _Args:
    start: str
    end_or_duration: str
    definitions: Path | None
    years: str | None


_Body = Callable[[WorkCalendar, _Args], str]

Definitions = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR",
        help="definitions folder holding calendar.yaml (default: LOKET_DEFINITIONS_DIR)",
        show_default=False,
    ),
]
Years = Annotated[
    str | None,
    typer.Option(
        metavar="FIRST-LAST",
        help="years to load (default: every year calendar.yaml gives a legal basis for)",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    calendar = new_app("Working-time deadlines (holidays, office hours), as the engine counts.")
    calendar.command(
        "due",
        help="The deadline DURATION working days/hours after START, with the calendar "
        "version used. Exit 0, or 2 on bad input.",
        short_help="the deadline N working days/hours after START",
    )(exits(_due))
    calendar.command(
        "elapsed",
        help="Working time between FROM and TO, with the calendar version used. Exit 0, or "
        "2 on bad input.",
        short_help="working time between two instants",
    )(exits(_elapsed))
    app.add_typer(
        calendar,
        name="calendar",
        short_help="working-time deadlines (holidays, office hours)",
        rich_help_panel="Inspectors",
    )


def _due(
    start: Annotated[
        str, typer.Argument(metavar="START", help="aware ISO instant, e.g. 2026-03-16T10:00+07:00")
    ],
    duration: Annotated[
        str, typer.Argument(metavar="DURATION", help="working days or hours, e.g. 3d, 4h")
    ],
    definitions: Definitions = None,
    years: Years = None,
) -> int:
    return _run(_Args(start, duration, definitions, years), "due", _due_text)


def _elapsed(
    start: Annotated[str, typer.Argument(metavar="FROM", help="aware ISO instant")],
    end: Annotated[str, typer.Argument(metavar="TO", help="aware ISO instant, not before FROM")],
    definitions: Definitions = None,
    years: Years = None,
) -> int:
    return _run(_Args(start, end, definitions, years), "elapsed", _elapsed_text)


def _calendar(args: _Args) -> WorkCalendar:
    folder: Path = args.definitions or get_settings().definitions_dir
    if args.years:
        first, _, last = str(args.years).partition("-")
        try:
            years = (int(first), int(last or first))
        except ValueError as exc:
            raise _BadInput(f"--years: expected FIRST-LAST, e.g. 2025-2026: {args.years}") from exc
    else:
        years = covered_years(folder)
    return WorkCalendar(load_calendar(folder, *years))


def _instant(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _BadInput(f"{what}: not an ISO date-time: {text!r}") from exc
    if value.tzinfo is None:
        raise _BadInput(f"{what}: give the UTC offset, e.g. {text}+07:00 for WIB")
    return value


def _hours(td_seconds: float) -> str:
    return f"{td_seconds / 3600:g}"


def _clock(worked: timedelta) -> str:
    # Working time reads as hours (timedelta's "1 day, 0:00:00" would suggest a calendar day).
    minutes, seconds = divmod(int(worked.total_seconds()), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"


def _describe(calendar: WorkCalendar) -> str:
    snap = calendar.snapshot
    return (
        f"calendar: {calendar.version} ({snap.timezone_name}, UTC+{snap.utc_offset_hours}, "
        f"{snap.first_year}-{snap.last_year})\n"
    )


def _run(args: _Args, name: str, body: _Body) -> int:
    # One place that turns expected input errors into a message and exit code 2; a
    # pydantic ValidationError is a ValueError too.
    try:
        calendar = _calendar(args)
        text = body(calendar, args)
    except ValueError as exc:
        return fail(f"calendar {name}", exc, EXIT_BAD_INPUT)
    out(text + _describe(calendar), nl=False)
    return EXIT_OK


def _due_text(calendar: WorkCalendar, args: _Args) -> str:
    start = _instant(args.start, "START")
    try:
        duration = WorkDuration.parse(args.end_or_duration)
    except ValidationError as exc:
        raise _BadInput(f"DURATION: {exc.errors()[0]['msg']}") from exc
    due = calendar.add(start, duration)
    counted_from = calendar.next_working_instant(start)
    return (
        f"due: {due.isoformat()}\n"
        f"due_local: {due:%a %d %b %Y %H:%M} {calendar.snapshot.timezone_name}\n"
        f"start: {start.isoformat()}\n"
        f"counted_from: {counted_from.isoformat()}\n"
        f"duration: {duration}\n"
        f"working_hours: {_hours(calendar.elapsed(start, due).total_seconds())}\n"
    )


def _elapsed_text(calendar: WorkCalendar, args: _Args) -> str:
    start = _instant(args.start, "FROM")
    end = _instant(args.end_or_duration, "TO")
    worked = calendar.elapsed(start, end)
    return (
        f"elapsed: {_clock(worked)}\n"
        f"working_hours: {_hours(worked.total_seconds())}\n"
        f"whole_working_days: {calendar.elapsed_working_days(start, end)}\n"
    )
