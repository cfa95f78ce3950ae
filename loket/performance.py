"""Published service performance: pure arithmetic over read-model rows and calendars.

What counts (one definition each, used by the page, the API and the open data):
- finished: decided (approved or rejected) in the month; cancelled files are not counted.
- on time: finished no later than the service deadline the case computed (its pauses for
  the applicant already taken into account); late otherwise.
- working days: from submission to finish, the service clock's pauses excluded, counted
  on the calendar version the application was pinned to (``WorkCalendar.working_days_used``).
- free: the permit type is free by law (or its assessment says so); waived: a fee was
  assessed and every line of it waived (e.g. MBR), so nothing is billed.
Small cells: a figure computed over fewer than :data:`SMALL_CELL` applications is withheld
(``None``) and its column named in the row's ``suppressed`` list, so a reader cannot single
out an applicant. Zero is published: it tells nothing about anyone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from loket.calendar import CalendarRangeError, Pause, WorkCalendar

SMALL_CELL = 5
SUPPRESSED_MARK = "<5"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile with linear interpolation (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def month_of(at: datetime, tz: timezone) -> str:
    """``YYYY-MM`` of an instant in the mall's time zone."""
    return at.astimezone(tz).strftime("%Y-%m")


def service_pauses(events: Iterable[tuple[str, datetime]]) -> list[Pause]:
    """The service clock's pauses from its audit events, in order; one still open has no end."""
    pauses: list[Pause] = []
    for event, at in events:
        if event == "service_clock_paused" and (not pauses or pauses[-1][1] is not None):
            pauses.append((at, None))
        elif event == "service_clock_resumed" and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], at)
    return pauses


@dataclass(frozen=True)
class Finished:
    """One decided application, as the performance figures see it (no personal data)."""

    permit_type: str
    month: str
    on_time: bool
    working_days: float | None  # None: outside the years its calendar covers
    free: bool
    waived: bool


def finished_facts(
    rows: Iterable[Mapping[str, Any]],
    calendar_of: Callable[[str], WorkCalendar],
    tz: timezone,
    free_types: frozenset[str],
) -> list[Finished]:
    """Rows of finished applications (with their service-clock events) -> facts."""
    facts = []
    for r in rows:
        calendar = calendar_of(r["calendar_version"])
        pauses = service_pauses(zip(r["clock_events"] or (), r["clock_times"] or (), strict=True))
        fees = r["fees"] or {}
        free = r["permit_type"] in free_types or bool(fees.get("free"))
        lines = fees.get("lines") or []
        waived = (
            not free and bool(lines) and r["fee_total"] == 0 and all(x["waived"] for x in lines)
        )
        due = r["service_due_at"]
        try:
            days: float | None = calendar.working_days_used(
                r["submitted_at"], r["finished_at"], pauses
            )
        except CalendarRangeError:
            # A file that outlived its calendar's years cannot be counted in working days;
            # it still counts as finished, on time or late.
            days = None
        facts.append(
            Finished(
                permit_type=r["permit_type"],
                month=month_of(r["finished_at"], tz),
                on_time=due is None or r["finished_at"] <= due,
                working_days=days,
                free=free,
                waived=waived,
            )
        )
    return facts


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def finished_figures(facts: Sequence[Finished]) -> dict[str, Any]:
    """The figures of one cell (a permit type and a month, or a whole year)."""
    days = [f.working_days for f in facts if f.working_days is not None]
    on_time = sum(f.on_time for f in facts)
    return {
        "finished": len(facts),
        "on_time": on_time,
        "late": len(facts) - on_time,
        "on_time_share": _share(on_time, len(facts)),
        "median_working_days": _days(percentile(days, 0.5)),
        "p90_working_days": _days(percentile(days, 0.9)),
        "free_share": _share(sum(f.free for f in facts), len(facts)),
        "waived_share": _share(sum(f.waived for f in facts), len(facts)),
    }


# Which published columns each count is the base of: when the base is a small cell, they
# all go (the count itself included, unless it is only a base and not published).
PERFORMANCE_CELLS: dict[str, tuple[str, ...]] = {
    "received": ("received",),
    "finished": tuple(finished_figures([])),
    "returned_applications": ("returns",),
    "fees_billed_count": ("fees_billed_count", "fees_billed_amount"),
    "fees_collected_count": ("fees_collected_count", "fees_collected_amount"),
}


def is_small(count: int) -> bool:
    return 0 < count < SMALL_CELL


def suppress(row: Mapping[str, Any], cells: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """``row`` with every figure of a small cell withheld and named in ``suppressed``."""
    out = dict(row)
    hidden: list[str] = []
    for base, columns in cells.items():
        if is_small(int(row[base])):
            for column in columns:
                out[column] = None
                hidden.append(column)
    out["suppressed"] = hidden
    return out
