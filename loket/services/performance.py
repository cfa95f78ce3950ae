"""Published service performance (no sign-in): per permit type and month, per counter, and
the satisfaction index, with small cells withheld (rules in :mod:`loket.performance`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loket.calendar import WorkCalendar, calendar_for
from loket.performance import (
    PERFORMANCE_CELLS,
    Finished,
    finished_facts,
    finished_figures,
    is_small,
    suppress,
)
from loket.services.context import Services, utcnow
from loket.services.survey import SurveyResult, survey_results
from loket.store import monitoring, performance

# Counts that only decide suppression and are not published themselves.
_BASES_ONLY = ("returned_applications",)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class PerformanceRow(_Out):
    """One permit type in one month (``month`` 'YYYY-MM') or the whole year (``month``
    'YYYY'). ``None``: withheld, the column is named in ``suppressed``."""

    permit_type: str
    permit_name: str
    month: str
    service_time_days: int | None = Field(description="the published standard, working days")
    received: int | None
    finished: int | None
    on_time: int | None
    late: int | None
    on_time_share: float | None
    median_working_days: float | None
    p90_working_days: float | None
    returns: int | None
    fees_billed_count: int | None
    fees_billed_amount: int | None
    fees_collected_count: int | None
    fees_collected_amount: int | None
    free_share: float | None
    waived_share: float | None
    suppressed: list[str]


class CounterRow(_Out):
    agency: str
    agency_name: str
    counter: str
    counter_name: str
    month: str
    steps_closed: int | None
    median_working_hours: float | None
    suppressed: list[str]


class Performance(_Out):
    year: int
    months: list[str]
    monthly: list[PerformanceRow]
    yearly: list[PerformanceRow]
    counters: list[CounterRow]
    survey: list[SurveyResult]


def year_bounds(services: Services, year: int) -> tuple[datetime, datetime]:
    tz = services.calendar.tz
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def current_year(services: Services) -> int:
    return utcnow().astimezone(services.calendar.tz).year


def months_of(services: Services, year: int) -> list[str]:
    """The months of ``year`` published so far (all twelve for a past year)."""
    now = utcnow().astimezone(services.calendar.tz)
    last = 12 if year < now.year else (now.month if year == now.year else 0)
    return [f"{year}-{m:02d}" for m in range(1, last + 1)]


async def _facts(services: Services, start: datetime, end: datetime) -> list[Finished]:
    async with services.acquire() as conn:
        rows = await performance.finished(conn, start, end)
        calendars: dict[str, WorkCalendar] = {}
        for version in {r["calendar_version"] for r in rows}:
            snapshot = await monitoring.calendar_snapshot(conn, version)
            # A version not kept (written before calendars were recorded): use today's.
            calendars[version] = calendar_for(snapshot or services.calendar)
    free = frozenset(p.id for p in services.catalog.permits.values() if p.fees.free)
    return finished_facts(rows, calendars.__getitem__, services.calendar.tz, free)


async def raw_figures(services: Services, year: int) -> dict[tuple[str, str], dict[str, Any]]:
    """Every figure per (permit type, month), and per (permit type, 'YYYY') for the year,
    before suppression: what the published rows are made of (and what tests recompute)."""
    start, end = year_bounds(services, year)
    offset = services.calendar.utc_offset_hours
    async with services.acquire() as conn:
        counted = await performance.monthly_counts(conn, start, end, offset)
    facts = await _facts(services, start, end)
    types = sorted(
        {*services.catalog.permits, *(r["permit_type"] for r in counted)}
        | {f.permit_type for f in facts}
    )
    zero = dict.fromkeys(PERFORMANCE_CELLS, 0) | dict.fromkeys(
        ("returns", "fees_billed_amount", "fees_collected_amount"), 0
    )
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for permit_type in types:
        for period in [*months_of(services, year), str(year)]:
            cells[(permit_type, period)] = dict(zero)
    for r in counted:
        for period in (r["month"], str(year)):
            cell = cells.setdefault((r["permit_type"], period), dict(zero))
            for column, value in r.items():
                if column not in ("permit_type", "month"):
                    cell[column] += int(value)
    grouped: dict[tuple[str, str], list[Finished]] = defaultdict(list)
    for f in facts:
        grouped[(f.permit_type, f.month)].append(f)
        grouped[(f.permit_type, str(year))].append(f)
    for cell_key, cell in cells.items():
        cell.update(finished_figures(grouped.get(cell_key, [])))
    return cells


def _row(services: Services, key: tuple[str, str], cell: dict[str, Any]) -> PerformanceRow:
    permit_type, period = key
    # Complaint handling (ADU) runs on the same engine and is published beside the permits.
    permit = services.catalog.permits.get(permit_type) or services.catalog.complaints.get(
        permit_type
    )
    published = suppress(cell, PERFORMANCE_CELLS)
    for base in _BASES_ONLY:
        published.pop(base, None)
    standard = permit.service_time.standard if permit else None
    return PerformanceRow(
        permit_type=permit_type,
        permit_name=permit.name if permit else permit_type,
        month=period,
        service_time_days=standard.working_days if standard else None,
        **published,
    )


async def counter_rows(services: Services, year: int) -> list[CounterRow]:
    start, end = year_bounds(services, year)
    async with services.acquire() as conn:
        rows = await performance.counter_time(conn, start, end, services.calendar.utc_offset_hours)
    agencies = {a.id: a for a in services.catalog.agencies.agencies}
    out = []
    for r in rows:
        agency = agencies.get(r["agency"])
        counter = (
            next((c for c in agency.counters if c.id == r["counter"]), None) if agency else None
        )
        small = is_small(r["steps_closed"])
        out.append(
            CounterRow(
                agency=r["agency"],
                agency_name=agency.short if agency else r["agency"],
                counter=r["counter"],
                counter_name=counter.name if counter else r["counter"],
                month=r["month"],
                steps_closed=None if small else r["steps_closed"],
                median_working_hours=(
                    None if small else round(float(r["median_working_s"]) / 3600, 2)
                ),
                suppressed=["steps_closed", "median_working_hours"] if small else [],
            )
        )
    return out


# Public and unauthenticated: a year's report is made once per state of the read model
# (a few hundred ms for thousands of applications), then served from here.
_REPORTS: dict[tuple[Any, ...], Performance] = {}
_REPORTS_MAX = 16


async def published_performance(services: Services, year: int) -> Performance:
    async with services.acquire() as conn:
        data = await performance.data_version(conn)
    # The month too: a new month publishes a new (empty) row before any data changes.
    version = (year, tuple(months_of(services, year)[-1:]), data)
    cached = _REPORTS.get(version)
    if cached is None:
        cached = await _published(services, year)
        if len(_REPORTS) >= _REPORTS_MAX:
            _REPORTS.clear()
        _REPORTS[version] = cached
    return cached


async def _published(services: Services, year: int) -> Performance:
    cells = await raw_figures(services, year)
    rows = [_row(services, key, cell) for key, cell in sorted(cells.items())]
    return Performance(
        year=year,
        months=months_of(services, year),
        monthly=[r for r in rows if len(r.month) == len("YYYY-MM")],
        yearly=[r for r in rows if len(r.month) == len("YYYY")],
        counters=await counter_rows(services, year),
        survey=await survey_results(services, year),
    )
