"""The published performance's arithmetic: working days on the calendar, percentiles,
service pauses from events, small-cell suppression (property tests where they fit)."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loket.calendar import CalendarSnapshot, WorkCalendar, WorkDuration
from loket.calendar_data import load_calendar
from loket.performance import (
    SMALL_CELL,
    finished_facts,
    finished_figures,
    percentile,
    service_pauses,
    suppress,
)
from loket.settings import PROJECT_ROOT
from tests.unit.test_calendar_properties import WIB, _session

EVEN = WorkCalendar(  # every working day has the same hours: whole days stay whole
    CalendarSnapshot(
        label="even",
        office_hours={
            d: (_session("08:00", "12:00"), _session("13:00", "16:00")) for d in range(1, 6)
        },
        first_year=2026,
        last_year=2026,
        legal_basis={2026: "test"},
    )
)
BLORA = WorkCalendar(load_calendar(PROJECT_ROOT / "definitions", 2026, 2026))

instants = st.datetimes(min_value=datetime(2026, 1, 5), max_value=datetime(2026, 11, 30)).map(
    lambda t: t.replace(tzinfo=WIB)
)


@given(instants, st.integers(1, 30))
def test_n_working_days_after_a_start_are_n_days_used(start: datetime, n: int) -> None:
    start = EVEN.next_working_instant(start)
    end = EVEN.add(start, WorkDuration(working_days=n))
    assert abs(EVEN.working_days_used(start, end) - n) < 1e-9


@given(instants, instants, instants)
def test_days_used_add_up_and_pauses_take_their_own_share(
    a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert (
        abs(
            BLORA.working_days_used(a, c)
            - BLORA.working_days_used(a, b)
            - BLORA.working_days_used(b, c)
        )
        < 1e-9
    )
    paused = BLORA.working_days_used(a, c, [(a + (b - a) / 2, b)])
    assert (
        abs(paused - (BLORA.working_days_used(a, c) - BLORA.working_days_used(a + (b - a) / 2, b)))
        < 1e-9
    )
    assert BLORA.working_days_used(a, c, [(a, None)]) == 0


def test_holidays_are_not_working_days() -> None:
    # Mon 4 May 2026 10:00 to Mon 18 May: 14 and 15 May are a holiday and cuti bersama.
    start = datetime(2026, 5, 4, 10, tzinfo=WIB)
    assert BLORA.working_days_used(start, start + timedelta(days=14)) == 8


@given(st.lists(st.floats(0, 1000), min_size=1, max_size=40))
def test_the_median_is_the_statistical_median(values: list[float]) -> None:
    found = percentile(values, 0.5)
    assert found is not None and abs(found - statistics.median(values)) < 1e-6
    p90 = percentile(values, 0.9)
    assert p90 is not None and min(values) <= p90 <= max(values)
    assert percentile([], 0.5) is None


def test_service_pauses_pair_their_events() -> None:
    t = [datetime(2026, 4, 6, h, tzinfo=WIB) for h in range(8, 13)]
    events = [
        ("service_clock_paused", t[0]),
        ("service_clock_resumed", t[1]),
        ("service_clock_paused", t[2]),
        ("service_clock_paused", t[3]),
    ]
    assert service_pauses(events) == [(t[0], t[1]), (t[2], None)]


CELLS = {"received": ("received",), "finished": ("finished", "median")}


@given(st.integers(0, 50), st.integers(0, 50))
def test_a_small_cell_is_withheld_with_everything_computed_over_it(
    received: int, finished: int
) -> None:
    row = {"received": received, "finished": finished, "median": 3.5}
    out = suppress(row, CELLS)
    for base, columns in CELLS.items():
        small = 0 < row[base] < SMALL_CELL
        for column in columns:
            assert (out[column] is None) == small
            assert (column in out["suppressed"]) == small


def test_a_file_beyond_its_calendar_counts_without_working_days() -> None:
    row = {
        "permit_type": "PBG",
        "calendar_version": EVEN.version,
        "submitted_at": datetime(2026, 12, 28, 10, tzinfo=WIB),
        "finished_at": datetime(2027, 1, 5, 10, tzinfo=WIB),  # EVEN covers 2026 only
        "service_due_at": None,
        "fees": None,
        "fee_total": None,
        "clock_events": None,
        "clock_times": None,
    }
    (fact,) = finished_facts([row], lambda v: EVEN, WIB, frozenset())
    assert fact.working_days is None and fact.on_time and fact.month == "2027-01"
    assert finished_figures([fact])["finished"] == 1
    assert finished_figures([fact])["median_working_days"] is None
