"""Unit tests of the pure working-time calendar (no package data: snapshots built here)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from pydantic import ValidationError

from loket.calendar import (
    CalendarRangeError,
    CalendarSnapshot,
    Holiday,
    OfficeSession,
    WorkCalendar,
    WorkDuration,
)

WIB = timezone(timedelta(hours=7), "WIB")
# The 2026 days off around Idul Fitri (SKB 1497/2025), enough to exercise the arithmetic.
HOLIDAYS_2026 = {
    date(2026, 3, 18): ("Cuti Bersama Nyepi", "cuti_bersama"),
    date(2026, 3, 19): ("Hari Suci Nyepi", "national"),
    date(2026, 3, 20): ("Cuti Bersama Idul Fitri", "cuti_bersama"),
    date(2026, 3, 21): ("Idul Fitri", "national"),
    date(2026, 3, 22): ("Idul Fitri hari kedua", "national"),
    date(2026, 3, 23): ("Cuti Bersama Idul Fitri", "cuti_bersama"),
    date(2026, 3, 24): ("Cuti Bersama Idul Fitri", "cuti_bersama"),
}


def session(opens: str, closes: str) -> OfficeSession:
    return OfficeSession(opens=time.fromisoformat(opens), closes=time.fromisoformat(closes))


def make_snapshot(**overrides: object) -> CalendarSnapshot:
    data: dict[str, object] = {
        "label": "test",
        "office_hours": {
            1: (session("08:00", "16:00"),),
            2: (session("08:00", "16:00"),),
            3: (session("08:00", "16:00"),),
            4: (session("08:00", "16:00"),),
            5: (session("08:00", "16:30"),),
        },
        "holidays": {
            d: Holiday(name=name, kind=kind)  # type: ignore[arg-type]
            for d, (name, kind) in HOLIDAYS_2026.items()
        },
        "first_year": 2026,
        "last_year": 2026,
        "legal_basis": {2026: "SKB 1497/2025"},
    }
    data.update(overrides)
    return CalendarSnapshot.model_validate(data)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar(make_snapshot())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


D = WorkDuration.parse


# --- WorkDuration ------------------------------------------------------------------------


def test_duration_parse_and_str() -> None:
    assert D("3d") == WorkDuration(working_days=3)
    assert D(" 4H ") == WorkDuration(working_hours=4)
    assert str(D("28d")) == "28d"
    assert str(WorkDuration(working_hours=4)) == "4h"


def test_duration_shorthand_in_models_and_json_round_trip() -> None:
    assert WorkDuration.model_validate("10d").working_days == 10
    explicit = WorkDuration.model_validate({"working_hours": 2})
    assert WorkDuration.model_validate_json(explicit.model_dump_json()) == explicit


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"working_days": 0}, "must be a positive whole number, got 0"),
        ({"working_hours": -2}, "must be a positive whole number, got -2"),
        ({"working_days": 1, "working_hours": 2}, "exactly one of"),
        ({}, "exactly one of"),
        ("3 weeks", "not a working duration"),
        ("0d", "must be a positive whole number"),
        ({"working_days": 1.5}, "valid integer"),
        ({"days": 3}, "Extra inputs are not permitted"),
    ],
)
def test_duration_errors_are_clear(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WorkDuration.model_validate(value)


def test_duration_is_frozen() -> None:
    duration = D("3d")
    with pytest.raises(ValidationError):
        duration.working_days = 4  # type: ignore[misc]


# --- CalendarSnapshot --------------------------------------------------------------------


def test_version_is_a_deterministic_content_hash() -> None:
    a, b = make_snapshot(), make_snapshot()
    assert a.version == b.version
    assert a.version.startswith("test-") and len(a.version) == len("test-") + 12
    other = make_snapshot(holidays={})
    assert other.version != a.version
    # The label names the calendar; the hash covers only the data.
    assert make_snapshot(label="blora").version.split("-")[1] == a.version.split("-")[1]


def test_snapshot_json_round_trip_keeps_version() -> None:
    snap = make_snapshot()
    again = CalendarSnapshot.model_validate_json(snap.model_dump_json())
    assert again == snap and again.version == snap.version


def test_altered_snapshot_is_refused() -> None:
    data = make_snapshot().model_dump(mode="json")
    del data["holidays"]["2026-03-23"]
    with pytest.raises(ValidationError, match="does not match its content"):
        CalendarSnapshot.model_validate(data)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"utc_offset_hours": 8}, "WIB is UTC\\+7"),
        ({"legal_basis": {}}, "no entry for year"),
        ({"legal_basis": {2026: "x", 2027: "y"}}, "outside the covered years"),
        ({"holidays": {date(2025, 12, 25): Holiday(name="x", kind="national")}}, "outside"),
        ({"office_hours": {1: (session("08:00", "12:00"), session("11:00", "16:00"))}}, "overlap"),
        ({"office_hours": {8: (session("08:00", "12:00"),)}}, "ISO weekday"),
        ({"office_hours": {}}, "at least one weekday"),
        ({"first_year": 2027}, "after last_year"),
    ],
)
def test_snapshot_validation(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_snapshot(**overrides)


def test_session_must_open_before_it_closes() -> None:
    with pytest.raises(ValidationError, match="opens at 16:00:00 but closes at 08:00:00"):
        session("16:00", "08:00")


# --- days and instants -------------------------------------------------------------------


def test_working_days(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2026, 3, 17))
    assert not cal.is_working_day(date(2026, 3, 14))  # Saturday
    assert not cal.is_working_day(date(2026, 3, 20))  # cuti bersama
    holiday = cal.holiday(date(2026, 3, 19))
    assert holiday is not None and holiday.kind == "national"


def test_working_instants_are_half_open(cal: WorkCalendar) -> None:
    assert cal.is_working_instant(at("2026-03-16T08:00"))
    assert not cal.is_working_instant(at("2026-03-16T16:00"))
    assert cal.is_working_instant(at("2026-03-13T16:15"))  # Friday closes 16:30


def test_next_working_instant(cal: WorkCalendar) -> None:
    assert cal.next_working_instant(at("2026-03-16T10:00")) == at("2026-03-16T10:00")
    assert cal.next_working_instant(at("2026-03-16T16:00")) == at("2026-03-17T08:00")
    # Tuesday evening before Nyepi and Idul Fitri: next opening is Wednesday 25 March.
    assert cal.next_working_instant(at("2026-03-17T18:00")) == at("2026-03-25T08:00")
    # Any offset in, the calendar's zone out.
    utc = datetime(2026, 3, 16, 0, 30, tzinfo=UTC)  # 07:30 WIB
    assert cal.next_working_instant(utc) == at("2026-03-16T08:00")


def test_naive_datetimes_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add(datetime(2026, 3, 16, 10), D("1d"))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.elapsed(at("2026-03-16T10:00"), datetime(2026, 3, 17, 10))


def test_outside_covered_years_raises(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarRangeError, match="covers 2026-2026"):
        cal.add(at("2025-12-30T10:00"), D("1d"))
    with pytest.raises(CalendarRangeError, match="following year"):
        cal.add(at("2026-12-20T10:00"), D("28d"))
    with pytest.raises(CalendarRangeError):
        cal.is_working_day(date(2027, 1, 4))


# --- adding working time -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        ("2026-03-02T10:00", "3d", "2026-03-05T10:00"),  # same clock, 3 working days on
        ("2026-03-05T10:00", "1d", "2026-03-06T10:00"),
        ("2026-03-06T10:00", "1d", "2026-03-09T10:00"),  # over the weekend
        ("2026-03-01T09:00", "3d", "2026-03-04T16:00"),  # Sunday: Monday is day one
        ("2026-03-02T07:30", "3d", "2026-03-04T16:00"),  # before opening: end of day three
        ("2026-03-02T08:00", "1d", "2026-03-02T16:00"),  # the whole of Monday is one day
        ("2026-03-02T16:00", "1d", "2026-03-03T16:00"),  # at closing: Tuesday is day one
        ("2026-03-06T16:15", "1d", "2026-03-09T16:00"),  # Friday late: capped at Monday close
        ("2026-03-16T10:00", "3d", "2026-03-26T10:00"),  # Tue 17, then Wed 25, Thu 26
        ("2026-03-17T10:00", "3d", "2026-03-27T10:00"),  # across Nyepi and Idul Fitri
        ("2026-03-02T15:00", "4h", "2026-03-03T11:00"),
        ("2026-03-02T15:00", "1h", "2026-03-02T16:00"),  # due at closing, not next opening
        ("2026-03-06T12:00", "8h", "2026-03-09T11:30"),  # Friday 4.5h + Monday 3.5h
        ("2026-03-14T12:00", "2h", "2026-03-16T10:00"),  # Saturday counts from Monday
    ],
)
def test_add(cal: WorkCalendar, start: str, duration: str, due: str) -> None:
    assert cal.add(at(start), D(duration)) == at(due)


def test_add_working_time_exact_to_the_microsecond(cal: WorkCalendar) -> None:
    start = at("2026-03-02T15:59:59.999999")
    assert cal.add_working_time(start, timedelta(microseconds=1)) == at("2026-03-02T16:00")
    assert cal.add_working_time(start, timedelta(microseconds=2)) == at(
        "2026-03-03T08:00:00.000001"
    )


def test_add_working_time_zero_and_negative(cal: WorkCalendar) -> None:
    assert cal.add_working_time(at("2026-03-02T17:00"), timedelta(0)) == at("2026-03-03T08:00")
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_time(at("2026-03-02T10:00"), timedelta(hours=-1))


def test_budget(cal: WorkCalendar) -> None:
    # Monday 10:00 + 5d = next Monday 10:00: includes Friday's longer day.
    assert cal.budget(at("2026-03-02T10:00"), D("5d")) == timedelta(hours=40, minutes=30)


# --- elapsed -----------------------------------------------------------------------------


def test_elapsed(cal: WorkCalendar) -> None:
    assert cal.elapsed(at("2026-03-02T10:00"), at("2026-03-02T10:00")) == timedelta(0)
    assert cal.elapsed(at("2026-03-06T15:00"), at("2026-03-09T09:00")) == timedelta(hours=2.5)
    assert cal.elapsed(at("2026-03-17T15:00"), at("2026-03-25T09:00")) == timedelta(hours=2)
    assert cal.elapsed(at("2026-03-14T00:00"), at("2026-03-15T23:00")) == timedelta(0)
    with pytest.raises(ValueError, match="before 'from'"):
        cal.elapsed(at("2026-03-03T10:00"), at("2026-03-02T10:00"))


def test_elapsed_working_days(cal: WorkCalendar) -> None:
    start = at("2026-03-17T10:00")
    assert cal.elapsed_working_days(start, at("2026-03-27T10:00")) == 3
    assert cal.elapsed_working_days(start, at("2026-03-27T09:59")) == 2
    assert cal.elapsed_working_days(start, at("2026-03-17T15:00")) == 0
    assert cal.elapsed_working_days(at("2026-03-02T08:00"), at("2026-03-02T16:00")) == 1


# --- breaks and other zones --------------------------------------------------------------


def test_break_and_wita() -> None:
    wita = timezone(timedelta(hours=8), "WITA")
    snap = make_snapshot(
        timezone_name="WITA",
        utc_offset_hours=8,
        office_hours={
            4: (session("08:00", "16:00"),),
            5: (session("07:30", "11:30"), session("13:00", "16:30")),
        },
        holidays={},
    )
    cal = WorkCalendar(snap)
    friday = datetime(2026, 3, 6, 11, 0, tzinfo=wita)
    assert cal.add(friday, D("1h")) == datetime(2026, 3, 6, 13, 30, tzinfo=wita)
    # Exactly the morning's remaining time: due at the break, the earliest such instant.
    assert cal.add_working_time(friday, timedelta(minutes=30)) == friday.replace(minute=30)
    assert cal.next_working_instant(friday.replace(hour=12)) == friday.replace(hour=13)
    assert cal.elapsed(friday, friday.replace(hour=14)) == timedelta(hours=1, minutes=30)
    # Thursday 15:00 is 7h into its day; Friday 7h in: 4h before the break + 3h after.
    thursday = datetime(2026, 3, 5, 15, 0, tzinfo=wita)
    assert cal.add(thursday, D("1d")) == datetime(2026, 3, 6, 16, 0, tzinfo=wita)
    # Same instant given in WIB: the answer is the same instant.
    assert cal.add(thursday.astimezone(WIB), D("1d")) == cal.add(thursday, D("1d"))


# --- stop-the-clock ----------------------------------------------------------------------


def test_return_to_applicant_for_ten_calendar_days(cal: WorkCalendar) -> None:
    start = at("2026-03-02T10:00")
    due = cal.add(start, D("5d"))
    assert due == at("2026-03-09T10:00")
    pauses = [(at("2026-03-04T10:00"), at("2026-03-14T10:00"))]
    paused = cal.paused_working_time(start, at("2026-03-20T00:00"), pauses)
    assert paused == timedelta(hours=6 + 8 + 8.5 + 8 + 8 + 8 + 8 + 8.5)
    new_due = cal.due_after_pauses(start, due, pauses)
    # 16h used before the pause; 24.5h left from Monday 16 March: Mon, Tue, (Nyepi, Idul
    # Fitri and cuti bersama), Wed 25, then half an hour on Thursday 26.
    assert new_due == at("2026-03-26T08:30")
    assert cal.used_working_time(start, new_due, pauses) == cal.elapsed(start, due)
    assert cal.remaining_working_time(start, due, new_due, pauses) == timedelta(0)


def test_pause_never_resets_the_clock(cal: WorkCalendar) -> None:
    start = at("2026-03-02T10:00")
    pauses = [(at("2026-03-03T10:00"), at("2026-03-03T12:00"))]
    # Used time keeps what was used before the pause: 6h Monday + 2h Tuesday, then after.
    assert cal.used_working_time(start, at("2026-03-03T13:00"), pauses) == timedelta(hours=9)


def test_open_pause_has_no_due(cal: WorkCalendar) -> None:
    start = at("2026-03-02T10:00")
    due = cal.add(start, D("2d"))
    pauses = [(at("2026-03-03T09:00"), None)]
    assert cal.due_after_pauses(start, due, pauses) is None
    assert cal.used_working_time(start, at("2026-03-10T09:00"), pauses) == timedelta(hours=7)


def test_pause_after_the_deadline_does_not_move_it(cal: WorkCalendar) -> None:
    start = at("2026-03-02T10:00")
    due = cal.add(start, D("1d"))
    late = [(at("2026-03-04T10:00"), at("2026-03-05T10:00"))]
    assert cal.due_after_pauses(start, due, late) == due
    overdue = cal.remaining_working_time(start, due, at("2026-03-06T10:00"), late)
    # Budget 8h; used by Friday 10:00: 32h elapsed minus 8h paused = 24h, so 16h late.
    assert overdue == -timedelta(hours=16)


def test_overlapping_pauses_count_once(cal: WorkCalendar) -> None:
    start = at("2026-03-02T08:00")
    one = [(at("2026-03-02T10:00"), at("2026-03-02T14:00"))]
    overlapping = [*one, (at("2026-03-02T12:00"), at("2026-03-02T13:00"))]
    end = at("2026-03-02T16:00")
    assert cal.paused_working_time(start, end, overlapping) == timedelta(hours=4)
    due = cal.add(start, D("4h"))
    assert cal.due_after_pauses(start, due, overlapping) == cal.due_after_pauses(start, due, one)


def test_pause_before_start_and_reversed_pause(cal: WorkCalendar) -> None:
    start = at("2026-03-02T10:00")
    early = [(at("2026-02-27T10:00"), at("2026-03-02T12:00"))]
    assert cal.used_working_time(start, at("2026-03-02T13:00"), early) == timedelta(hours=1)
    with pytest.raises(ValueError, match="before it starts"):
        cal.used_working_time(start, at("2026-03-03T10:00"), [(at("2026-03-03T09:00"), start)])


def test_building_is_fast_enough() -> None:
    # The simulator and every workflow build calendars; several years must stay cheap.
    import time as clock

    snap = make_snapshot(
        holidays={},
        first_year=2020,
        last_year=2030,
        legal_basis={y: "x" for y in range(2020, 2031)},
    )
    began = clock.perf_counter()
    cal = WorkCalendar(snap)
    for day in range(1, 28):
        cal.add(datetime(2026, 2, day, 9, tzinfo=WIB), D("28d"))
    assert clock.perf_counter() - began < 0.5


def test_workflows_pinned_to_one_version_share_one_calendar() -> None:
    from pathlib import Path

    from loket.calendar import calendar_for
    from loket.calendar_data import covered_years, load_calendar

    definitions = Path(__file__).resolve().parents[2] / "definitions"
    snapshot = load_calendar(definitions, *covered_years(definitions))
    again = CalendarSnapshot.model_validate(snapshot.model_dump())
    assert calendar_for(snapshot) is calendar_for(again)
    other = CalendarSnapshot.model_validate(
        {**snapshot.model_dump(exclude={"version"}), "label": "other"}
    )
    assert calendar_for(other) is not calendar_for(snapshot)
    assert calendar_for(other).version == other.version
