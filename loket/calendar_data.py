"""Build a :class:`~loket.calendar.CalendarSnapshot` from its sources (the I/O side).

National holidays (category ``public``) and cuti bersama (category ``government``) come
from the pinned ``holidays`` package; ``definitions/calendar.yaml`` adds what the package
cannot know: office hours, local holidays, corrections and the legal basis of each year.
Order of application: package, then local holidays, then corrections, so a correction has
the last word.

Only this module imports ``holidays`` and reads files; the snapshot it returns is plain data
that the pure :mod:`loket.calendar` computes with, inside or outside the workflow sandbox.
"""

from __future__ import annotations

import re
from datetime import date, time
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Literal, Self

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from loket.calendar import (
    UTC_OFFSETS,
    CalendarSnapshot,
    Holiday,
    HolidayKind,
    OfficeSession,
    TimezoneName,
)

CALENDAR_FILE = "calendar.yaml"
COUNTRY = "ID"
# Names as the public reads them on tracking pages (the package ships Indonesian names).
HOLIDAY_LANGUAGE = "id"

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_ISO_WEEKDAY: dict[str, int] = {
    "monday": 1,
    "tuesday": 2,
    "wednesday": 3,
    "thursday": 4,
    "friday": 5,
    "saturday": 6,
    "sunday": 7,
}
_SESSION_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class CalendarDataError(ValueError):
    """calendar.yaml (or the merge with the package) is invalid; names file and path."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalHoliday(_Strict):
    """A regency day off recurring every year on the same date."""

    name: str = Field(min_length=1)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    decree: str = Field(min_length=1, description="the decree that makes it a day off")
    first_year: int | None = None
    last_year: int | None = None

    @model_validator(mode="after")
    def _real_date(self) -> Self:
        try:
            date(2000, self.month, self.day)  # a leap year: 29 February is allowed
        except ValueError as exc:
            raise ValueError(f"{self.month}-{self.day} is not a calendar date") from exc
        return self

    def dates(self, first_year: int, last_year: int) -> list[date]:
        low = max(first_year, self.first_year or first_year)
        high = min(last_year, self.last_year or last_year)
        found = []
        for year in range(low, high + 1):
            try:
                found.append(date(year, self.month, self.day))
            except ValueError:  # 29 February in a common year
                continue
        return found


class Correction(_Strict):
    """A date added to or removed from the package's list, with its reason and decree."""

    date: date
    action: Literal["add", "remove"]
    reason: str = Field(min_length=1)
    decree: str = Field(min_length=1)
    name: str | None = None
    kind: HolidayKind | None = None

    @model_validator(mode="after")
    def _add_needs_name(self) -> Self:
        if self.action == "add" and (not self.name or self.kind is None):
            raise ValueError("an 'add' correction needs 'name' and 'kind'")
        if self.action == "remove" and (self.name is not None or self.kind is not None):
            raise ValueError("a 'remove' correction takes no 'name' or 'kind'")
        return self


class CalendarFile(_Strict):
    """The schema of ``definitions/calendar.yaml``."""

    label: str = Field(pattern=r"^[a-z0-9][a-z0-9_.]*$")
    regency: str
    timezone: TimezoneName
    office_hours: dict[Weekday, tuple[OfficeSession, ...]]
    legal_basis: dict[int, str]
    local_holidays: list[LocalHoliday] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)

    @field_validator("office_hours", mode="before")
    @classmethod
    def _parse_sessions(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {day: _parse_sessions(day, spec) for day, spec in value.items()}


def _parse_sessions(day: object, spec: Any) -> Any:
    """``"08:00-16:00"`` or a list of such (a break) -> session dicts."""
    items = [spec] if isinstance(spec, str) else spec
    if not isinstance(items, list):
        # YAML reads an unquoted 16:00 as the base-60 integer 960: insist on quotes.
        raise ValueError(f'{day}: write office hours as quoted "HH:MM-HH:MM" strings')
    sessions = []
    for item in items:
        match = _SESSION_RE.match(item) if isinstance(item, str) else None
        if match is None:
            raise ValueError(f'{day}: {item!r} is not "HH:MM-HH:MM"')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            sessions.append({"opens": time(h1, m1), "closes": time(h2, m2)})
        except ValueError as exc:
            raise ValueError(f"{day}: {item!r}: {exc}") from exc
    return sessions


def read_calendar_file(definitions_dir: Path) -> CalendarFile:
    """Parse and validate calendar.yaml; errors name the file and the path inside it."""
    path = definitions_dir / CALENDAR_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalendarDataError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CalendarDataError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return CalendarFile.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise CalendarDataError("\n".join(lines)) from exc


def covered_years(definitions_dir: Path) -> tuple[int, int]:
    """The years calendar.yaml gives a legal basis for: the default range to load."""
    years = sorted(read_calendar_file(definitions_dir).legal_basis)
    if not years:
        raise CalendarDataError(f"{definitions_dir / CALENDAR_FILE}: legal_basis is empty")
    return years[0], years[-1]


def _package_holidays(years: list[int]) -> dict[date, Holiday]:
    merged: dict[date, Holiday] = {}
    # One category at a time so each date keeps its kind; a national holiday wins a tie.
    for category, kind in (("government", "cuti_bersama"), ("public", "national")):
        found = holidays.country_holidays(
            COUNTRY, years=years, categories=(category,), language=HOLIDAY_LANGUAGE
        )
        for day, name in sorted(found.items()):
            merged[day] = Holiday(
                name=str(name),
                kind=kind,
                source=f"holidays {package_version('holidays')} ({category})",
            )
    return merged


def load_calendar(definitions_dir: Path, first_year: int, last_year: int) -> CalendarSnapshot:
    """Merge the ``holidays`` package with calendar.yaml into a versioned snapshot."""
    path = definitions_dir / CALENDAR_FILE
    spec = read_calendar_file(definitions_dir)
    if first_year > last_year:
        raise CalendarDataError(f"first year {first_year} is after last year {last_year}")
    years = list(range(first_year, last_year + 1))
    missing = [y for y in years if y not in spec.legal_basis]
    if missing:
        raise CalendarDataError(
            f"{path}: legal_basis: no entry for {', '.join(map(str, missing))}; add the decree "
            "that sets that year's holidays and cuti bersama before computing deadlines in it"
        )

    merged = _package_holidays(years)
    for index, local in enumerate(spec.local_holidays):
        for day in local.dates(first_year, last_year):
            if day not in merged:  # a national holiday on the same date already closes
                merged[day] = Holiday(
                    name=local.name,
                    kind="local",
                    source=f"{CALENDAR_FILE} local_holidays.{index}: {local.decree}",
                )
    for index, fix in enumerate(spec.corrections):
        if not first_year <= fix.date.year <= last_year:
            continue
        where = f"{CALENDAR_FILE} corrections.{index}"
        if fix.action == "remove":
            if fix.date not in merged:
                raise CalendarDataError(
                    f"{path}: corrections.{index}: {fix.date} is not a holiday, nothing to remove"
                )
            del merged[fix.date]
        else:
            assert fix.name is not None and fix.kind is not None  # checked by Correction
            merged[fix.date] = Holiday(
                name=fix.name, kind=fix.kind, source=f"{where}: {fix.decree} ({fix.reason})"
            )

    sessions: dict[int, tuple[OfficeSession, ...]] = {
        _ISO_WEEKDAY[day]: hours for day, hours in spec.office_hours.items()
    }
    try:
        return CalendarSnapshot(
            label=spec.label,
            timezone_name=spec.timezone,
            utc_offset_hours=UTC_OFFSETS[spec.timezone],
            office_hours=dict(sorted(sessions.items())),
            holidays=dict(sorted(merged.items())),
            first_year=first_year,
            last_year=last_year,
            legal_basis={y: " ".join(spec.legal_basis[y].split()) for y in years},
        )
    except ValidationError as exc:
        lines = [f"{path}: {err['msg']}" for err in exc.errors()]
        raise CalendarDataError("\n".join(lines)) from exc
