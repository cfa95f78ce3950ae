"""Shared by ``escalation.py`` and ``burst.py``: a calendar whose office opens at a chosen
instant, and polling a count until it reaches a target."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone

from _common import Stack, monotonic

from loket.calendar import UTC_OFFSETS, CalendarSnapshot, Holiday, OfficeSession

END_OF_DAY = time(23, 59, 59, 999_999)  # sessions are half-open: 1 us short of midnight
PROGRESS_EVERY_S = 10.0


def opening_calendar(
    now: datetime, opens_at: datetime, holidays: dict[date, Holiday] | None = None
) -> CalendarSnapshot:
    """Office round the clock, except that today's office opens at ``opens_at``.

    Picks the zone (WIB, WITA, WIT) in which ``now`` and ``opens_at`` fall on the same
    local day with room before midnight; for a lead under an hour one always does.
    """
    fitting = [
        (zone, offset)
        for zone, offset in UTC_OFFSETS.items()
        if now.astimezone(timezone(timedelta(hours=offset))).date()
        == (local := opens_at.astimezone(timezone(timedelta(hours=offset)))).date()
        and local.time() < time(23, 0)
    ]
    if not fitting:
        raise SystemExit("--lead-s is too long: pick one under an hour")
    zone, offset = fitting[0]
    local_open = opens_at.astimezone(timezone(timedelta(hours=offset)))
    whole_day = (OfficeSession(opens=time(0), closes=END_OF_DAY),)
    hours = {weekday: whole_day for weekday in range(1, 8)}
    opening = local_open.time().replace(tzinfo=None)
    hours[local_open.isoweekday()] = (OfficeSession(opens=opening, closes=END_OF_DAY),)
    holidays = holidays or {}
    years = range(min([now.year, *(d.year for d in holidays)]), now.year + 2)
    return CalendarSnapshot(
        label="bench",
        timezone_name=zone,
        utc_offset_hours=offset,
        office_hours=hours,
        first_year=years[0],
        last_year=years[-1],
        holidays=holidays,
        legal_basis={year: "benchmark calendar: every hour is working time" for year in years},
    )


async def count_rows(stack: Stack, sql: str, *params: object) -> int:
    return int(await stack.pool.fetchval(sql, *params))


async def wait_for(
    stack: Stack,
    what: str,
    sql: str,
    target: int,
    deadline: float,
    started: float,
    *params: object,
) -> float | None:
    """Poll ``sql`` (a count) until it reaches ``target``; seconds since ``started``."""
    last_print = monotonic()
    while True:
        found = await count_rows(stack, sql, *params)
        now = monotonic()
        if found >= target:
            return round(now - started, 1)
        if now >= deadline:
            print(f"  {what}: gave up at {found}/{target}")
            return None
        if now - last_print >= PROGRESS_EVERY_S:
            print(f"  {what}: {found}/{target} after {now - started:.0f}s", flush=True)
            last_print = now
        await asyncio.sleep(0.5)
