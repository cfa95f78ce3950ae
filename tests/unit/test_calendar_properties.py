"""Property tests (hypothesis) of the working-time calendar.

Two calendars: the real Blora one (package holidays + calendar.yaml, 2025-2026) and a
synthetic WITA one with lunch breaks, a Saturday morning and different opening times, which
stresses the session arithmetic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from loket.calendar import (
    CalendarSnapshot,
    Holiday,
    OfficeSession,
    Pause,
    WorkCalendar,
    WorkDuration,
)
from loket.calendar_data import load_calendar
from loket.settings import PROJECT_ROOT

WIB = timezone(timedelta(hours=7), "WIB")


def _session(opens: str, closes: str) -> OfficeSession:
    return OfficeSession(opens=time.fromisoformat(opens), closes=time.fromisoformat(closes))


def _synthetic() -> WorkCalendar:
    morning_afternoon = (_session("07:30", "12:00"), _session("13:00", "16:00"))
    return WorkCalendar(
        CalendarSnapshot(
            label="synthetic",
            timezone_name="WITA",
            utc_offset_hours=8,
            office_hours={
                1: morning_afternoon,
                2: morning_afternoon,
                3: morning_afternoon,
                4: (_session("08:00", "16:00"),),
                5: (_session("07:30", "11:30"), _session("13:30", "16:30")),
                6: (_session("08:00", "12:00"),),
            },
            holidays={
                date(2025, 12, 25): Holiday(name="Natal", kind="national"),
                date(2026, 1, 1): Holiday(name="Tahun Baru", kind="national"),
                date(2026, 3, 20): Holiday(name="Cuti Bersama", kind="cuti_bersama"),
                date(2026, 3, 23): Holiday(name="Cuti Bersama", kind="cuti_bersama"),
                date(2026, 3, 24): Holiday(name="Cuti Bersama", kind="cuti_bersama"),
            },
            first_year=2025,
            last_year=2026,
            legal_basis={2025: "test", 2026: "test"},
        )
    )


CALENDARS = {
    "blora": WorkCalendar(load_calendar(PROJECT_ROOT / "definitions", 2025, 2026)),
    "synthetic": _synthetic(),
}
calendar_names = st.sampled_from(sorted(CALENDARS))

# Starts leave room for the longest duration below before the covered range ends.
instants = st.datetimes(
    min_value=datetime(2025, 1, 2),  # any offset still lands inside 2025
    max_value=datetime(2026, 9, 30),
    timezones=st.sampled_from([WIB, UTC, timezone(timedelta(hours=8))]),
)
day_counts = st.integers(min_value=1, max_value=40)
hour_counts = st.integers(min_value=1, max_value=300)
durations = st.one_of(
    day_counts.map(lambda n: WorkDuration(working_days=n)),
    hour_counts.map(lambda n: WorkDuration(working_hours=n)),
)
amounts = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(hours=300))


def _in_office_hours(cal: WorkCalendar, t: datetime) -> bool:
    """A deadline is inside a session or exactly at its closing: opens < t <= closes."""
    local = t.astimezone(cal.tz)
    return any(opens < local <= closes for opens, closes in cal.office_sessions(local.date()))


@given(calendar_names, instants, hour_counts)
def test_hours_round_trip(name: str, start: datetime, hours: int) -> None:
    cal = CALENDARS[name]
    due = cal.add(start, WorkDuration(working_hours=hours))
    assert cal.elapsed(start, due) == timedelta(hours=hours)


@given(calendar_names, instants, amounts)
def test_working_time_round_trip(name: str, start: datetime, amount: timedelta) -> None:
    cal = CALENDARS[name]
    due = cal.add_working_time(start, amount)
    assert cal.elapsed(start, due) == amount
    # The earliest such instant: a microsecond less is not enough.
    assert cal.elapsed(start, max(start, due - timedelta(microseconds=1))) < amount


@given(calendar_names, instants, day_counts)
def test_days_round_trip(name: str, start: datetime, days: int) -> None:
    cal = CALENDARS[name]
    due = cal.add(start, WorkDuration(working_days=days))
    assert cal.elapsed_working_days(start, due) == days
    assert cal.elapsed_working_days(start, due - timedelta(microseconds=1)) == days - 1
    # Converting to working time and back lands on the same deadline.
    assert cal.add_working_time(start, cal.elapsed(start, due)) == due


@given(calendar_names, instants, durations)
def test_deadline_on_a_working_day_within_office_hours(
    name: str, start: datetime, duration: WorkDuration
) -> None:
    cal = CALENDARS[name]
    due = cal.add(start, duration)
    assert due > start
    assert cal.is_working_day(due.astimezone(cal.tz).date())
    assert _in_office_hours(cal, due)


@given(calendar_names, instants, instants, durations)
def test_monotonic_in_start(name: str, a: datetime, b: datetime, duration: WorkDuration) -> None:
    cal = CALENDARS[name]
    first, second = sorted((a, b))
    assert cal.add(first, duration) <= cal.add(second, duration)


@given(calendar_names, instants, st.integers(1, 40), st.integers(1, 40), st.booleans())
def test_monotonic_in_duration(name: str, start: datetime, m: int, n: int, days: bool) -> None:
    cal = CALENDARS[name]
    assume(m != n)
    small, large = sorted((m, n))
    field = "working_days" if days else "working_hours"
    shorter = cal.add(start, WorkDuration.model_validate({field: small}))
    longer = cal.add(start, WorkDuration.model_validate({field: large}))
    assert shorter < longer


@given(calendar_names, instants, instants, instants)
def test_elapsed_is_additive(name: str, a: datetime, b: datetime, c: datetime) -> None:
    cal = CALENDARS[name]
    first, middle, last = sorted((a, b, c))
    assert cal.elapsed(first, last) == cal.elapsed(first, middle) + cal.elapsed(middle, last)


@given(calendar_names, instants)
def test_next_working_instant(name: str, t: datetime) -> None:
    cal = CALENDARS[name]
    nxt = cal.next_working_instant(t)
    assert nxt >= t
    assert cal.is_working_instant(nxt)
    assert cal.elapsed(t, nxt) == timedelta(0)


pause_lists = st.lists(
    st.tuples(instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))),
    max_size=4,
)


def _pauses(raw: list[tuple[datetime, timedelta]]) -> list[Pause]:
    return [(begin, begin + length) for begin, length in raw]


@settings(max_examples=150)
@given(calendar_names, instants, durations, pause_lists, instants)
def test_pauses_never_shorten_used_time(
    name: str,
    start: datetime,
    duration: WorkDuration,
    raw: list[tuple[datetime, timedelta]],
    probe: datetime,
) -> None:
    cal = CALENDARS[name]
    pauses = _pauses(raw)
    due = cal.add(start, duration)
    budget = cal.elapsed(start, due)

    # Used time never exceeds elapsed time and never goes backwards.
    at = max(start, probe)
    used = cal.used_working_time(start, at, pauses)
    assert timedelta(0) <= used <= cal.elapsed(start, at)
    later = at + timedelta(hours=5)
    assert cal.used_working_time(start, later, pauses) >= used

    # The deadline after pauses is never earlier, and there the budget is exactly used up.
    try:
        new_due = cal.due_after_pauses(start, due, pauses)
    except ValueError:
        # Pushed beyond the covered years: the calendar must say so, not guess.
        return
    assert new_due is not None
    assert new_due >= due
    assert cal.used_working_time(start, new_due, pauses) == budget
    assert _in_office_hours(cal, new_due)


@given(calendar_names, instants, durations, st.floats(min_value=0, max_value=0.999))
def test_open_pause_stops_the_clock(
    name: str, start: datetime, duration: WorkDuration, share: float
) -> None:
    cal = CALENDARS[name]
    due = cal.add(start, duration)
    paused = start + (due - start) * share  # paused before the deadline
    pauses: list[Pause] = [(paused, None)]
    assert cal.due_after_pauses(start, due, pauses) is None
    frozen = cal.used_working_time(start, paused, pauses)
    assert cal.used_working_time(start, paused + timedelta(days=10), pauses) == frozen


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_versions_differ(name: str) -> None:
    assert CALENDARS[name].version.startswith(f"{name}-")
