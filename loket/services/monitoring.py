"""The inspectorate's reads: stalled steps worst first, SLA compliance, escalations, and
everything the application page shows beside the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loket.calendar import WorkCalendar
from loket.monitoring import rank_stalled, stalled_rows
from loket.services.context import Services
from loket.services.errors import application_not_found
from loket.services.paged import cursor_refused, page_request
from loket.store import monitoring, paging, queries
from loket.store.db import Conn


async def _calendars(
    services: Services, conn: Conn, rows: list[dict[str, Any]], known: dict[str, WorkCalendar]
) -> dict[str, WorkCalendar]:
    for version in {r["calendar_version"] for r in rows} - known.keys():
        snapshot = await monitoring.calendar_snapshot(conn, version)
        # A version not kept (written before calendars were recorded): use today's.
        known[version] = WorkCalendar(snapshot or services.calendar)
    return known


async def stalled_steps(services: Services, now: datetime) -> list[dict[str, Any]]:
    """Every stalled step, ranked worst first (the whole province: prefer the pages)."""
    async with services.acquire() as conn:
        rows = await monitoring.open_steps_needing_attention(conn, now)
        calendars = await _calendars(services, conn, rows, {})
    return rank_stalled(rows, calendars.__getitem__, now)


@dataclass(frozen=True)
class StalledPage:
    rows: list[dict[str, Any]]
    next_after: str | None  # the cursor of the next page; None: this is the last


async def stalled_page(
    services: Services, now: datetime, *, limit: int | None = None, after: str | None = None
) -> StalledPage:
    """One page of the stalled list, from just after the cursor ``after``, in the order of
    ``loket.store.monitoring.stalled_candidates``. Candidates past their deadline on the
    clock but not in working time (due as the office closed) are skipped, so a page reads
    candidates until it is full and one more stalled step is known to follow."""
    size, cursor = page_request(limit, after)
    try:
        key = monitoring.stalled_after(cursor)
    except paging.CursorInvalid:
        raise cursor_refused() from None
    shown: list[dict[str, Any]] = []
    calendars: dict[str, WorkCalendar] = {}
    async with services.acquire() as conn:
        while True:
            batch = await monitoring.stalled_candidates(conn, now, key, size + 1)
            await _calendars(services, conn, batch, calendars)
            for row in stalled_rows(batch, calendars.__getitem__, now):
                if len(shown) == size:  # a next page exists: it starts after the last shown
                    last = monitoring.stalled_key(shown[-1], now)
                    return StalledPage(_public(shown), paging.encode(last))
                shown.append(row)
            if len(batch) <= size:
                return StalledPage(_public(shown), None)
            key = monitoring.stalled_key(batch[-1], now)


def _public(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "id"} for r in rows]


async def sla_compliance(
    services: Services, start: datetime, end: datetime, permit_type: str | None
) -> list[dict[str, Any]]:
    """Per agency, counter and step: steps closed in [start, end) and how many on time."""
    async with services.acquire() as conn:
        return await monitoring.sla_compliance(conn, start, end, permit_type)


async def escalations(services: Services, registration_number: str) -> list[dict[str, Any]]:
    async with services.acquire() as conn:
        return await monitoring.escalation_history(conn, registration_number)


@dataclass(frozen=True)
class ApplicationRecord:
    """An application as the read model holds it: the row, its tasks, its escalations."""

    application: queries.ApplicationRow
    tasks: list[queries.TaskRow]
    escalations: list[dict[str, Any]]


async def application_record(services: Services, registration_number: str) -> ApplicationRecord:
    async with services.acquire() as conn:
        app = await queries.application(conn, registration_number)
        tasks = await queries.tasks_of(conn, registration_number)
        history = await monitoring.escalation_history(conn, registration_number)
    if app is None:
        raise application_not_found(registration_number)
    return ApplicationRecord(application=app, tasks=tasks, escalations=history)
