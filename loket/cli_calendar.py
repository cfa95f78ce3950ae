"""``loket calendar due|elapsed``: recompute working-time deadlines as the engine does.

Every answer names the calendar version it used, so an inspector can check a recorded
deadline against the version the permit recorded.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from loket.calendar import WorkCalendar, WorkDuration
from loket.calendar_data import covered_years, load_calendar
from loket.settings import get_settings

EXIT_BAD_INPUT = 2

_Body = Callable[[WorkCalendar, argparse.Namespace], str]


class _BadInput(ValueError):
    pass


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("calendar", help="working-time deadlines (holidays, office hours)")
    commands = parser.add_subparsers(dest="calendar_command", required=True, metavar="COMMAND")

    due = commands.add_parser("due", help="the deadline N working days/hours after START")
    due.add_argument(
        "start", metavar="START", help="aware ISO instant, e.g. 2026-03-16T10:00+07:00"
    )
    due.add_argument("duration", metavar="DURATION", help="working days or hours, e.g. 3d, 4h")
    _common(due)
    due.set_defaults(func=_due)

    elapsed = commands.add_parser("elapsed", help="working time between two instants")
    elapsed.add_argument("start", metavar="FROM", help="aware ISO instant")
    elapsed.add_argument("end", metavar="TO", help="aware ISO instant, not before FROM")
    _common(elapsed)
    elapsed.set_defaults(func=_elapsed)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--definitions",
        type=Path,
        default=None,
        help="definitions folder holding calendar.yaml (default: LOKET_DEFINITIONS_DIR)",
    )
    parser.add_argument(
        "--years",
        default=None,
        metavar="FIRST-LAST",
        help="years to load (default: every year calendar.yaml gives a legal basis for)",
    )


def _calendar(args: argparse.Namespace) -> WorkCalendar:
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


def _run(args: argparse.Namespace, name: str, body: _Body) -> int:
    # One place that turns expected input errors into a message and exit code 2; a
    # pydantic ValidationError is a ValueError too.
    try:
        calendar = _calendar(args)
        out = body(calendar, args)
    except ValueError as exc:
        sys.stderr.write(f"loket calendar {name}: {exc}\n")
        return EXIT_BAD_INPUT
    sys.stdout.write(out + _describe(calendar))
    return 0


def _due_text(calendar: WorkCalendar, args: argparse.Namespace) -> str:
    start = _instant(args.start, "START")
    try:
        duration = WorkDuration.parse(args.duration)
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


def _elapsed_text(calendar: WorkCalendar, args: argparse.Namespace) -> str:
    start = _instant(args.start, "FROM")
    end = _instant(args.end, "TO")
    worked = calendar.elapsed(start, end)
    return (
        f"elapsed: {_clock(worked)}\n"
        f"working_hours: {_hours(worked.total_seconds())}\n"
        f"whole_working_days: {calendar.elapsed_working_days(start, end)}\n"
    )


def _due(args: argparse.Namespace) -> int:
    return _run(args, "due", _due_text)


def _elapsed(args: argparse.Namespace) -> int:
    return _run(args, "elapsed", _elapsed_text)
