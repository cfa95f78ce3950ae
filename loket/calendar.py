"""Working-time arithmetic for service deadlines: pure, deterministic, sandbox-safe.

This module runs inside the Temporal workflow sandbox, so it does no I/O, never imports
``zoneinfo`` or the ``holidays`` package, and reads no clock. Everything it needs arrives as
a :class:`CalendarSnapshot` (plain data, pinned in a workflow's input); ``loket.calendar_data``
builds snapshots from the ``holidays`` package and ``definitions/calendar.yaml``.

Time zones are fixed UTC offsets (WIB +7, WITA +8, WIT +9): Indonesia has no daylight saving,
so a fixed offset is exact.

The working timeline
    Working time is the office time (the sessions of each working weekday's office hours,
    excluding holidays and cuti bersama) between two instants. Sessions are half-open
    ``[opens, closes)``: 16:00 on a day closing at 16:00 is not a working instant.

Convention for ``N working hours``
    The deadline is the earliest instant at which N hours of working time have passed since
    the start. A start outside office hours therefore counts from the next opening.

Convention for ``N working days`` (the same everywhere: workflow, simulator, CLI, docs)
    1. A start outside office hours is first moved to the next working instant (received on
       Sunday or at 17:00 counts as received at the next opening).
    2. The deadline is the same office-clock position N working days later: the same amount
       of that day's office time already passed (with the default hours, the same wall-clock
       time), capped at the closing of a shorter day. Monday 10:00 + 3d = Thursday 10:00.
    3. Like every deadline, it is the *earliest* instant with that working time. So a
       position at the very opening of a day is shown as the closing of the previous working
       day, which is the same moment in working time: received Monday 07:30 (or at 08:00),
       ``3d`` is due Wednesday 16:00, the end of the third working day counting Monday.

    :meth:`WorkCalendar.elapsed_working_days` is the inverse: the number of whole working days
    from ``a`` to ``b`` under this convention, so ``elapsed_working_days(s, add(s, Nd)) == N``.
    :meth:`WorkCalendar.elapsed` measures working time as a ``timedelta``;
    ``elapsed(s, add(s, Nh)) == N hours`` and ``add_working_time(s, elapsed(s, t))`` is ``t``
    for every deadline ``t`` this module returns.

Deadlines never land on a non-working day or outside office hours: they are inside a
session or exactly at its closing instant.

Stop-the-clock
    A pause (file returned to the applicant, waiting for payment) is an interval of calendar
    time. The working time *used* by a step is the working time elapsed since its start minus
    the working time inside its pauses (overlapping pauses count once). The deadline after
    pauses is the instant at which the used time reaches the step's budget, i.e. the working
    time between its start and its original deadline. Nothing is ever reset.

Arithmetic outside the snapshot's covered years raises :class:`CalendarRangeError`: a
calendar that does not know next year's cuti bersama must not pretend there are none.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TimezoneName = Literal["WIB", "WITA", "WIT"]
# Indonesia's three zones; no daylight saving, so these offsets are exact all year.
UTC_OFFSETS: dict[str, int] = {"WIB": 7, "WITA": 8, "WIT": 9}

HolidayKind = Literal["national", "cuti_bersama", "local"]

# A pause of the clock: (paused at, resumed at); ``None`` while it is still paused.
Pause = tuple[datetime, datetime | None]

_US_PER_DAY = 86_400_000_000
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([dDhH])\s*$")


class CalendarRangeError(ValueError):
    """An instant or result lies outside the years a calendar snapshot covers."""


def _require_aware(value: datetime, what: str = "datetime") -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (e.g. 2026-03-16T10:00+07:00): {value}")


def _us(td: timedelta) -> int:
    # timedelta stores days/seconds/microseconds exactly; integer microseconds keep every
    # computation exact (no float rounding in a deadline an inspector must reproduce).
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


# --- durations ---------------------------------------------------------------------------


class WorkDuration(BaseModel):
    """A service time in working days or working hours, e.g. ``3d`` or ``4h``.

    Accepts the shorthand string wherever it is validated (YAML ``deadline: 3d``), and the
    explicit form ``{working_days: 3}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    working_days: Annotated[int, Field(strict=True)] | None = None
    working_hours: Annotated[int, Field(strict=True)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return cls._parse_fields(value)
        return value

    @field_validator("working_days", "working_hours")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError(f"must be a positive whole number, got {value}")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.working_days is None) == (self.working_hours is None):
            raise ValueError("give exactly one of 'working_days' or 'working_hours' (e.g. 3d, 4h)")
        return self

    @staticmethod
    def _parse_fields(text: str) -> dict[str, int]:
        match = _DURATION_RE.match(text)
        if match is None:
            raise ValueError(
                f"not a working duration: {text!r}; write e.g. '3d' (working days) "
                "or '4h' (working hours)"
            )
        amount, unit = int(match.group(1)), match.group(2).lower()
        return {"working_days" if unit == "d" else "working_hours": amount}

    @classmethod
    def parse(cls, text: str) -> WorkDuration:
        """Parse ``3d`` / ``4h``; raises ``pydantic.ValidationError`` (a ``ValueError``)."""
        return cls.model_validate(text)

    def __str__(self) -> str:
        if self.working_days is not None:
            return f"{self.working_days}d"
        return f"{self.working_hours}h"


# --- the snapshot (plain data) -----------------------------------------------------------


class OfficeSession(BaseModel):
    """One stretch of office time on a weekday, local wall clock, half-open [opens, closes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opens: time
    closes: time

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("office hours are local wall-clock times without a time zone")
        if self.opens >= self.closes:
            raise ValueError(f"session opens at {self.opens} but closes at {self.closes}")
        return self

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


class Holiday(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: HolidayKind
    source: str = Field(default="", description="where this date comes from, for inspectors")


class CalendarSnapshot(BaseModel):
    """Everything the arithmetic needs, as plain data pinned into a workflow's input.

    ``version`` is derived from the content (``<label>-<12 hex of sha256>``): leave it empty
    to have it computed; a given version that does not match the content is refused, so a
    pinned snapshot cannot be altered silently.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = ""
    label: str = ""
    timezone_name: TimezoneName = "WIB"
    utc_offset_hours: int = 7
    # ISO weekday (1 = Monday) -> sessions; a weekday absent or empty is not a working day.
    office_hours: dict[int, tuple[OfficeSession, ...]]
    holidays: dict[date, Holiday] = Field(default_factory=dict)
    first_year: int
    last_year: int
    legal_basis: dict[int, str]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if UTC_OFFSETS[self.timezone_name] != self.utc_offset_hours:
            raise ValueError(
                f"{self.timezone_name} is UTC+{UTC_OFFSETS[self.timezone_name]}, "
                f"not UTC+{self.utc_offset_hours}"
            )
        if self.first_year > self.last_year:
            raise ValueError(f"first_year {self.first_year} is after last_year {self.last_year}")
        for weekday, sessions in self.office_hours.items():
            if not 1 <= weekday <= 7:
                raise ValueError(f"office_hours: weekday {weekday} is not an ISO weekday 1-7")
            for earlier, later in pairwise(sessions):
                if later.opens < earlier.closes:
                    raise ValueError(
                        f"office_hours[{weekday}]: sessions {earlier} and {later} overlap "
                        "or are out of order"
                    )
        if not any(self.office_hours.values()):
            raise ValueError("office_hours: at least one weekday must have office hours")
        years = set(range(self.first_year, self.last_year + 1))
        outside = sorted(d for d in self.holidays if d.year not in years)
        if outside:
            raise ValueError(
                f"holidays outside the covered years {self.first_year}-{self.last_year}: "
                f"{', '.join(d.isoformat() for d in outside)}"
            )
        missing = sorted(years - set(self.legal_basis))
        if missing:
            raise ValueError(f"legal_basis: no entry for year(s) {missing}")
        extra = sorted(set(self.legal_basis) - years)
        if extra:
            raise ValueError(f"legal_basis: year(s) {extra} are outside the covered years")

        expected = self.compute_version()
        if not self.version:
            # Frozen model: the version is derived once, here, from the validated content.
            object.__setattr__(self, "version", expected)
        elif self.version != expected:
            raise ValueError(
                f"calendar version {self.version!r} does not match its content "
                f"(expected {expected!r}); the snapshot was altered"
            )
        return self

    def compute_version(self) -> str:
        """``<label>-<hash>``: the hash covers all data except the label and the version."""
        content = self.model_dump(mode="json", exclude={"version", "label"})
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:12]
        return f"{self.label}-{digest}" if self.label else digest

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours), self.timezone_name)


# --- the arithmetic ----------------------------------------------------------------------


class WorkCalendar:
    """Working-time arithmetic over one snapshot. See the module docstring for conventions.

    Internally every instant maps to a position on the working timeline: the microseconds of
    office time from the start of the covered range. Building it is one pass over the covered
    days; each operation is then a binary search plus a walk over one day's sessions.
    """

    def __init__(self, snapshot: CalendarSnapshot) -> None:
        self.snapshot = snapshot
        self.tz = snapshot.tz
        self._sessions_by_weekday: dict[int, tuple[tuple[int, int], ...]] = {
            weekday: tuple((_time_us(s.opens), _time_us(s.closes)) for s in sessions)
            for weekday, sessions in snapshot.office_hours.items()
        }
        self._first_date = date(snapshot.first_year, 1, 1)
        self._last_date = date(snapshot.last_year, 12, 31)
        self._days: list[date] = []  # working days, ascending
        self._day_sessions: list[tuple[tuple[int, int], ...]] = []
        self._cum: list[int] = [0]  # _cum[j]: working time before working day j
        day = self._first_date
        while day <= self._last_date:
            sessions = self._sessions_by_weekday.get(day.isoweekday(), ())
            if sessions and day not in snapshot.holidays:
                self._days.append(day)
                self._day_sessions.append(sessions)
                self._cum.append(self._cum[-1] + sum(e - s for s, e in sessions))
            day += timedelta(days=1)
        if not self._days:
            raise ValueError("the calendar has no working day in its covered years")

    @property
    def version(self) -> str:
        return self.snapshot.version

    # -- days ---------------------------------------------------------------------------

    def _check_date(self, day: date) -> None:
        if not self._first_date <= day <= self._last_date:
            raise CalendarRangeError(
                f"{day.isoformat()} is outside calendar {self.version}, which covers "
                f"{self.snapshot.first_year}-{self.snapshot.last_year}; load a calendar "
                "that covers it (add the year's legal basis to calendar.yaml)"
            )

    def is_working_day(self, day: date) -> bool:
        self._check_date(day)
        return bool(self._sessions_by_weekday.get(day.isoweekday())) and (
            day not in self.snapshot.holidays
        )

    def holiday(self, day: date) -> Holiday | None:
        self._check_date(day)
        return self.snapshot.holidays.get(day)

    def office_sessions(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The office sessions of ``day`` as aware instants; empty on a non-working day."""
        if not self.is_working_day(day):
            return ()
        midnight = datetime.combine(day, time(0), tzinfo=self.tz)
        return tuple(
            (midnight + timedelta(microseconds=s), midnight + timedelta(microseconds=e))
            for s, e in self._sessions_by_weekday[day.isoweekday()]
        )

    # -- positions on the working timeline ------------------------------------------------

    def _local(self, t: datetime) -> datetime:
        _require_aware(t)
        local = t.astimezone(self.tz)
        self._check_date(local.date())
        return local

    def _position(self, t: datetime) -> int:
        """Working time (µs) from the start of the covered range up to instant ``t``."""
        local = self._local(t)
        day = local.date()
        j = bisect_right(self._days, day) - 1
        if j >= 0 and self._days[j] == day:
            clock = _time_us(local.time())
            worked = sum(min(max(clock - s, 0), e - s) for s, e in self._day_sessions[j])
            return self._cum[j] + worked
        # Not a working day: all of the previous working day is behind us (j = -1: none).
        return self._cum[j + 1]

    def _instant(self, position: int, *, earliest: bool) -> datetime:
        """The instant at a timeline position.

        A position at a boundary between two sessions (or days) is both a closing and the
        next opening: ``earliest`` picks the closing (deadlines), otherwise the opening
        (the next working instant).
        """
        if earliest and position > 0:
            j = bisect_left(self._cum, position) - 1  # _cum[j] < position <= _cum[j+1]
        else:
            j = bisect_right(self._cum, position) - 1  # _cum[j] <= position < _cum[j+1]
        if j >= len(self._days):
            raise CalendarRangeError(
                f"the result lies after the last working day of calendar {self.version} "
                f"(covers {self.snapshot.first_year}-{self.snapshot.last_year}); load a "
                "calendar that covers the following year"
            )
        offset = position - self._cum[j]
        sessions = self._day_sessions[j]
        for index, (s, e) in enumerate(sessions):
            length = e - s
            last = index == len(sessions) - 1
            if offset < length or (offset == length and (earliest or last)):
                clock = s + offset
                break
            offset -= length
        else:  # pragma: no cover - the bisect guarantees the position lies in day j
            raise AssertionError("timeline position outside its day")
        midnight = datetime.combine(self._days[j], time(0), tzinfo=self.tz)
        return midnight + timedelta(microseconds=clock)

    def _day_index(self, position: int) -> int:
        """The working day a start at ``position`` counts from (the next one at a boundary)."""
        j = bisect_right(self._cum, position) - 1
        if j >= len(self._days):
            raise CalendarRangeError(
                f"no working day left in calendar {self.version} "
                f"(covers {self.snapshot.first_year}-{self.snapshot.last_year})"
            )
        return j

    def _day_length(self, j: int) -> int:
        return self._cum[j + 1] - self._cum[j]

    # -- instants -----------------------------------------------------------------------

    def is_working_instant(self, t: datetime) -> bool:
        """True inside an office session (opening included, closing excluded)."""
        local = self._local(t)
        if not self.is_working_day(local.date()):
            return False
        clock = _time_us(local.time())
        return any(s <= clock < e for s, e in self._sessions_by_weekday[local.isoweekday()])

    def next_working_instant(self, t: datetime) -> datetime:
        """``t`` itself if the office is open then, else the next opening (calendar tz)."""
        return self._instant(self._position(t), earliest=False)

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant at which ``amount`` of working time has passed since ``start``.

        ``amount`` zero gives :meth:`next_working_instant`. Negative amounts are refused.
        """
        us = _us(amount)
        if us < 0:
            raise ValueError(f"working time to add must not be negative: {amount}")
        if us == 0:
            return self.next_working_instant(start)
        return self._instant(self._position(start) + us, earliest=True)

    def add(self, start: datetime, duration: WorkDuration) -> datetime:
        """The deadline ``duration`` after ``start`` (conventions: module docstring)."""
        if duration.working_hours is not None:
            return self.add_working_time(start, timedelta(hours=duration.working_hours))
        assert duration.working_days is not None  # WorkDuration guarantees exactly one
        position = self._position(start)
        j = self._day_index(position)
        into_day = position - self._cum[j]
        k = j + duration.working_days
        if k >= len(self._days):
            raise CalendarRangeError(
                f"{duration} from {start.isoformat()} ends after the last working day of "
                f"calendar {self.version} (covers {self.snapshot.first_year}-"
                f"{self.snapshot.last_year}); load a calendar that covers the following year"
            )
        return self._instant(self._cum[k] + min(into_day, self._day_length(k)), earliest=True)

    def budget(self, start: datetime, duration: WorkDuration) -> timedelta:
        """The working time ``duration`` grants a step that starts at ``start``."""
        return self.elapsed(start, self.add(start, duration))

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        """Working time between two aware instants (``b`` not before ``a``)."""
        _require_aware(a, "from")
        _require_aware(b, "to")
        if b < a:
            raise ValueError(f"'to' {b.isoformat()} is before 'from' {a.isoformat()}")
        return timedelta(microseconds=self._position(b) - self._position(a))

    def elapsed_working_days(self, a: datetime, b: datetime) -> int:
        """Whole working days from ``a`` to ``b``: the largest N with ``add(a, Nd) <= b``."""
        _require_aware(a, "from")
        _require_aware(b, "to")
        if b < a:
            raise ValueError(f"'to' {b.isoformat()} is before 'from' {a.isoformat()}")
        start = self._position(a)
        end = self._position(b)
        j = self._day_index(start)
        into_day = start - self._cum[j]
        # add(a, Nd) sits at timeline position cum[j+N] + min(into_day, length(j+N)); that
        # grows with N, so start from the day b lies in and step back at most twice.
        n = bisect_right(self._cum, end) - j
        while n > 0:
            k = j + n
            if k < len(self._days) and self._cum[k] + min(into_day, self._day_length(k)) <= end:
                return n
            n -= 1
        return 0

    # -- stop-the-clock -----------------------------------------------------------------

    def _merged_pauses(
        self, pauses: Iterable[Pause], lower: datetime, upper: datetime | None
    ) -> list[tuple[datetime, datetime | None]]:
        """Pauses clipped to [lower, upper], sorted, overlaps merged (counted once)."""
        clipped: list[tuple[datetime, datetime | None]] = []
        for paused, resumed in pauses:
            _require_aware(paused, "pause start")
            if resumed is not None:
                _require_aware(resumed, "pause end")
                if resumed < paused:
                    raise ValueError(
                        f"pause ends {resumed.isoformat()} before it starts {paused.isoformat()}"
                    )
            begin = max(paused, lower)
            end = resumed
            if upper is not None:
                if begin >= upper:
                    continue
                end = upper if end is None else min(end, upper)
            if end is not None and end <= begin:
                continue
            clipped.append((begin, end))
        clipped.sort(key=lambda p: p[0])
        merged: list[tuple[datetime, datetime | None]] = []
        for begin, end in clipped:
            if merged:
                last_begin, last_end = merged[-1]
                if last_end is None:
                    break  # an open pause swallows every later one
                if begin <= last_end:
                    new_end = None if end is None else max(last_end, end)
                    merged[-1] = (last_begin, new_end)
                    continue
            merged.append((begin, end))
        return merged

    def paused_working_time(
        self, start: datetime, at: datetime, pauses: Iterable[Pause]
    ) -> timedelta:
        """Working time inside ``pauses`` between ``start`` and ``at`` (overlaps once)."""
        total = timedelta(0)
        for begin, end in self._merged_pauses(pauses, start, at):
            total += self.elapsed(begin, at if end is None else end)
        return total

    def used_working_time(
        self, start: datetime, at: datetime, pauses: Iterable[Pause] = ()
    ) -> timedelta:
        """Working time a step has used at ``at``: elapsed minus paused working time."""
        pauses = list(pauses)
        return self.elapsed(start, at) - self.paused_working_time(start, at, pauses)

    def _day_count(self, t: datetime) -> float:
        """Working days before ``t`` on the timeline, the day ``t`` lies in counted by the
        share of its office time already past (a short Friday counts as a whole day)."""
        position = self._position(t)
        j = min(bisect_right(self._cum, position) - 1, len(self._days) - 1)
        return j + (position - self._cum[j]) / self._day_length(j)

    def working_days_used(
        self, start: datetime, at: datetime, pauses: Iterable[Pause] = ()
    ) -> float:
        """Working days used from ``start`` to ``at``, pauses excluded, as the published
        performance reports them: each working day counts 1 whatever its office hours, so
        with days of equal hours ``add(start, Nd)`` is exactly N days after ``start``."""
        if at < start:
            raise ValueError(f"'to' {at.isoformat()} is before 'from' {start.isoformat()}")
        used = self._day_count(at) - self._day_count(start)
        for begin, end in self._merged_pauses(pauses, start, at):
            used -= self._day_count(at if end is None else end) - self._day_count(begin)
        return used

    def due_after_pauses(
        self, start: datetime, due: datetime, pauses: Sequence[Pause]
    ) -> datetime | None:
        """The deadline once ``pauses`` are taken into account; ``None`` while paused.

        The step's budget is ``elapsed(start, due)``. Pauses that begin at or after ``due``
        do not move it (the step was already late). Otherwise the new deadline is where the
        used working time reaches the budget: ``add_working_time(resume, remaining)``.
        """
        remaining = self.elapsed(start, due)
        merged = self._merged_pauses(pauses, start, None)
        if not merged or merged[0][0] >= due:
            return due  # no pause before the deadline: it stands as computed
        cursor = start
        for begin, end in merged:
            before = self.elapsed(cursor, begin)
            if before >= remaining:
                return self.add_working_time(cursor, remaining)
            remaining -= before
            if end is None:
                return None
            cursor = end
        return self.add_working_time(cursor, remaining)

    def remaining_working_time(
        self, start: datetime, due: datetime, at: datetime, pauses: Sequence[Pause] = ()
    ) -> timedelta:
        """Budget minus used time at ``at``; negative when the step is overdue by that much."""
        return self.elapsed(start, due) - self.used_working_time(start, at, pauses)


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


# Building a WorkCalendar lays out every day of the covered years (about 12 ms). Workflows
# pinned to the same version share one: the version is a hash of the content, and the
# calendar never changes after construction, so sharing is as deterministic as building.
_SHARED: dict[str, WorkCalendar] = {}
_SHARED_MAX = 32


def calendar_for(snapshot: CalendarSnapshot) -> WorkCalendar:
    """The WorkCalendar of ``snapshot``, built once per version in this process."""
    calendar = _SHARED.get(snapshot.version)
    if calendar is None:
        calendar = WorkCalendar(snapshot)
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.pop(next(iter(_SHARED)))  # oldest first; versions rarely change
        _SHARED[snapshot.version] = calendar
    return calendar


def shared_calendar(raw: Any) -> WorkCalendar:
    """The WorkCalendar of a snapshot still in its JSON form (a workflow's input).

    A snapshot whose version is already shared is not validated again: the version is the
    content's hash and was checked when that calendar was built.
    """
    if isinstance(raw, dict):
        calendar = _SHARED.get(raw.get("version") or "")
        if calendar is not None:
            return calendar
    return calendar_for(CalendarSnapshot.model_validate(raw))
