"""The simulator's clock: working seconds since the first opening of the period.

Built from :class:`loket.calendar.WorkCalendar` (the workflow's calendar, with its
holidays, cuti bersama and office hours), so the simulator never decides on its own what
a working day is. On this timeline only office time passes: a service that does not
finish by closing time simply continues at the next opening, and weekends and holidays
take no room at all. Instants are recovered with the calendar when a deadline needs one.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from datetime import date, datetime, time, timedelta

from loket.calendar import CalendarRangeError, WorkCalendar, WorkDuration

log = logging.getLogger(__name__)


class Timeline:
    def __init__(self, calendar: WorkCalendar, start: date, days: int) -> None:
        """``days`` working days from ``start`` (or fewer, when the calendar ends first)."""
        self.calendar = calendar
        self.origin = calendar.next_working_instant(datetime.combine(start, time(0), calendar.tz))
        self.dates: list[date] = []
        self.starts: list[float] = []  # working seconds at each day's opening
        self.lengths: list[float] = []  # working seconds in each day
        day = self.origin.date()
        try:
            while len(self.dates) < days:
                sessions = calendar.office_sessions(day)
                if sessions:
                    opening = calendar.elapsed(self.origin, sessions[0][0]).total_seconds()
                    length = sum((e - s).total_seconds() for s, e in sessions)
                    self.dates.append(day)
                    self.starts.append(opening)
                    self.lengths.append(length)
                day += timedelta(days=1)
        except CalendarRangeError:
            log.warning(
                "calendar %s ends on %s: the timeline has %d of %d working days",
                calendar.version,
                day,
                len(self.dates),
                days,
            )
        if not self.dates:
            raise ValueError(f"no working day from {start} in calendar {calendar.version}")
        self.end = self.starts[-1] + self.lengths[-1]

    @property
    def days(self) -> int:
        return len(self.dates)

    def day_of(self, position: float) -> int:
        """Index of the working day a position lies in (the last day for the very end)."""
        return min(max(bisect_right(self.starts, position) - 1, 0), len(self.starts) - 1)

    def in_days(self, position: float) -> float:
        """A position as working days since the origin: whole days plus the share of the day
        (each working day counts one, whatever its office hours)."""
        k = self.day_of(position)
        return k + (position - self.starts[k]) / self.lengths[k]

    def instant(self, position: float) -> datetime:
        return self.calendar.add_working_time(self.origin, timedelta(seconds=position))

    def budget(self, position: float, duration: WorkDuration) -> float:
        """Working seconds that ``duration`` grants a permit submitted at ``position``,
        by the same rule as the workflow's service deadline (``WorkCalendar.add``)."""
        submitted = self.instant(position)
        return self.calendar.budget(submitted, duration).total_seconds()
