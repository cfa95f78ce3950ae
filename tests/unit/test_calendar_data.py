"""The merged calendar: holidays package + definitions/calendar.yaml."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path

import pytest

from loket.calendar import WorkCalendar, WorkDuration
from loket.calendar_data import CalendarDataError, covered_years, load_calendar
from loket.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"
WIB = timezone(timedelta(hours=7), "WIB")

# SKB Menag, Menaker, MenPANRB No. 1497/2025, 2/2025, 5/2025: cuti bersama 2026.
SKB_1497_2025_CUTI_BERSAMA = {
    date(2026, 2, 16),
    date(2026, 3, 18),
    date(2026, 3, 20),
    date(2026, 3, 23),
    date(2026, 3, 24),
    date(2026, 5, 15),
    date(2026, 5, 28),
    date(2026, 12, 24),
}

MINIMAL = """\
label: test
regency: Kabupaten Contoh
timezone: WIB
office_hours:
  monday: "08:00-16:00"
  tuesday: "08:00-16:00"
  wednesday: "08:00-16:00"
  thursday: "08:00-16:00"
  friday: ["08:00-11:30", "13:00-16:30"]
legal_basis:
  2026: SKB 1497/2025
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_holidays_package_is_pinned() -> None:
    # The 2026 list below is checked against this version; a bump must re-check it.
    assert version("holidays") == "0.108"


def test_2026_cuti_bersama_match_skb_1497_2025() -> None:
    snap = load_calendar(DEFINITIONS, 2026, 2026)
    cuti = {d for d, h in snap.holidays.items() if h.kind == "cuti_bersama"}
    assert cuti == SKB_1497_2025_CUTI_BERSAMA
    assert len(cuti) == 8
    assert "1497" in snap.legal_basis[2026]


def test_national_holidays_around_idul_fitri_2026() -> None:
    snap = load_calendar(DEFINITIONS, 2026, 2026)
    assert snap.holidays[date(2026, 3, 21)].kind == "national"
    assert snap.holidays[date(2026, 3, 19)].kind == "national"  # Nyepi
    assert "Idul Fitri" in snap.holidays[date(2026, 3, 20)].name


def test_real_calendar_loads_with_local_day_and_stable_version() -> None:
    first, last = covered_years(DEFINITIONS)
    assert first <= 2026 <= last
    a = load_calendar(DEFINITIONS, first, last)
    b = load_calendar(DEFINITIONS, first, last)
    assert a.version == b.version and a.version.startswith("blora-")
    assert a.timezone_name == "WIB" and a.utc_offset_hours == 7
    hari_jadi = a.holidays[date(2026, 12, 11)]
    assert hari_jadi.kind == "local" and "Blora" in hari_jadi.name
    assert a.office_hours[5][0].closes.isoformat() == "16:30:00"


def test_local_holiday_and_corrections_take_effect(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        MINIMAL
        + """\
local_holidays:
  - name: Hari Jadi Kabupaten Contoh
    month: 3
    day: 4
    decree: Perbup 1/2026
corrections:
  - date: 2026-12-24
    action: remove
    reason: moved by the revised SKB
    decree: SKB revisi 2026
  - date: 2026-12-28
    action: add
    name: Cuti Bersama Natal
    kind: cuti_bersama
    reason: moved from 24 December
    decree: SKB revisi 2026
""",
    )
    snap = load_calendar(folder, 2026, 2026)
    assert snap.holidays[date(2026, 3, 4)].kind == "local"
    assert "Perbup 1/2026" in snap.holidays[date(2026, 3, 4)].source
    assert date(2026, 12, 24) not in snap.holidays
    assert snap.holidays[date(2026, 12, 28)].name == "Cuti Bersama Natal"
    assert "corrections.1" in snap.holidays[date(2026, 12, 28)].source

    cal = WorkCalendar(snap)
    assert not cal.is_working_day(date(2026, 3, 4))
    assert cal.is_working_day(date(2026, 12, 24))
    assert not cal.is_working_day(date(2026, 12, 28))
    # Tuesday 3 March + 1d skips the local day.
    start = datetime(2026, 3, 3, 10, tzinfo=WIB)
    assert cal.add(start, WorkDuration(working_days=1)) == datetime(2026, 3, 5, 10, tzinfo=WIB)
    # Friday's break from the YAML is honoured.
    friday = datetime(2026, 3, 6, 11, tzinfo=WIB)
    assert cal.add(friday, WorkDuration(working_hours=1)) == datetime(
        2026, 3, 6, 13, 30, tzinfo=WIB
    )
    # Any edit gives a new version.
    assert snap.version != load_calendar(write(tmp_path, MINIMAL), 2026, 2026).version


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (MINIMAL + "colour: blue\n", "colour: Extra inputs are not permitted"),
        (
            MINIMAL.replace('"08:00-16:00"', '"8-16"', 1),
            "office_hours: Value error, monday: '8-16'",
        ),
        (MINIMAL.replace('"08:00-16:00"', "08:00-16:00x", 1), 'is not "HH:MM-HH:MM"'),
        (MINIMAL.replace("tuesday", "tuesdai"), "office_hours.tuesdai"),
        (MINIMAL.replace("timezone: WIB", "timezone: CET"), "timezone: Input should be"),
        (
            MINIMAL + "corrections:\n  - date: 2026-12-24\n    action: move\n"
            "    reason: r\n    decree: d\n",
            "corrections.0.action",
        ),
        (
            MINIMAL + "corrections:\n  - date: 2026-12-28\n    action: add\n"
            "    reason: r\n    decree: d\n",
            "corrections.0: Value error, an 'add' correction needs 'name' and 'kind'",
        ),
        (
            MINIMAL + "local_holidays:\n  - name: x\n    month: 2\n    day: 30\n    decree: d\n",
            "local_holidays.0: Value error, 2-30 is not a calendar date",
        ),
        (MINIMAL + "legal_basis: [1, 2]\n", "legal_basis"),
        ("label: [unclosed\n", "not valid YAML"),
        ("- just a list\n", "(top level)"),
    ],
)
def test_malformed_calendar_names_file_and_path(tmp_path: Path, text: str, fragment: str) -> None:
    folder = write(tmp_path, text)
    with pytest.raises(CalendarDataError) as info:
        load_calendar(folder, 2026, 2026)
    message = str(info.value)
    assert str(folder / "calendar.yaml") in message
    assert fragment in message


def test_year_without_legal_basis_is_refused(tmp_path: Path) -> None:
    folder = write(tmp_path, MINIMAL)
    with pytest.raises(CalendarDataError, match="legal_basis: no entry for 2027"):
        load_calendar(folder, 2026, 2027)


def test_removing_a_date_that_is_no_holiday_is_refused(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        MINIMAL + "corrections:\n  - date: 2026-12-23\n    action: remove\n"
        "    reason: r\n    decree: d\n",
    )
    with pytest.raises(CalendarDataError, match=r"corrections\.0: 2026-12-23 is not a holiday"):
        load_calendar(folder, 2026, 2026)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CalendarDataError, match=r"calendar\.yaml: cannot read"):
        load_calendar(tmp_path, 2026, 2026)


def test_overlapping_sessions_are_reported_with_the_file(tmp_path: Path) -> None:
    folder = write(tmp_path, MINIMAL.replace('"13:00-16:30"', '"11:00-16:30"'))
    with pytest.raises(CalendarDataError, match=r"calendar\.yaml: .*overlap"):
        load_calendar(folder, 2026, 2026)
