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


def rank_stalled(
    rows: Iterable[Mapping[str, Any]],
    calendar_of: Callable[[str], WorkCalendar],
    now: datetime,
) -> list[dict[str, Any]]:
    """Open steps that are overdue or escalated, worst first: most working time overdue,
    then highest escalation level, then earliest deadline."""
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
    stalled.sort(
        key=lambda r: (-r["overdue_working_s"], -r["escalation_level"], r["due_at"] or now)
    )
    return stalled
