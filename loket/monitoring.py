"""Stalled-work arithmetic for administrators: pure, given rows and calendars.

How late a step is counts in working time, with the calendar version that computed its
deadline, so an inspector gets the same answer as the workflow did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from loket.calendar import WorkCalendar


def overdue_working_time(
    calendar: WorkCalendar, due_at: datetime | None, now: datetime
) -> timedelta:
    """Working time past ``due_at`` at ``now``; zero when not yet due (or paused)."""
    if due_at is None or due_at >= now:
        return timedelta(0)
    return calendar.elapsed(due_at, now)


def stalled_rows(
    rows: Iterable[Mapping[str, Any]],
    calendar_of: Callable[[str], WorkCalendar],
    now: datetime,
) -> list[dict[str, Any]]:
    """The rows that are stalled (overdue in working time, or escalated), in the order
    given, each with its working time overdue."""
    stalled = []
    for row in rows:
        late = overdue_working_time(calendar_of(row["calendar_version"]), row["due_at"], now)
        if late <= timedelta(0) and row["escalation_level"] <= 0:
            continue
        stalled.append(
            {
                **row,
                "overdue_working_s": int(late.total_seconds()),
                "overdue_working_hours": round(late.total_seconds() / 3600, 2),
            }
        )
    return stalled


def rank_stalled(
    rows: Iterable[Mapping[str, Any]],
    calendar_of: Callable[[str], WorkCalendar],
    now: datetime,
) -> list[dict[str, Any]]:
    """Open steps that are overdue or escalated, worst first: most working time overdue,
    then highest escalation level, then earliest deadline.

    The paged list (``loket.store.monitoring.stalled_candidates``) reads them in the order
    (deadline, escalation level descending) instead, which a database index can page on;
    within one calendar version that is this ranking except between deadlines no working
    time apart (the end of one office session and the start of the next, or less than a
    second apart), where this puts the higher escalation level first."""
    stalled = stalled_rows(rows, calendar_of, now)
    stalled.sort(
        key=lambda r: (-r["overdue_working_s"], -r["escalation_level"], r["due_at"] or now)
    )
    return stalled
