"""The inspectorate's reads: stalled steps worst first, SLA compliance, escalations, and
everything the application page shows beside the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loket.calendar import WorkCalendar
from loket.monitoring import rank_stalled
from loket.services.context import Services
from loket.services.errors import application_not_found
from loket.store import monitoring, queries


async def stalled_steps(services: Services, now: datetime) -> list[dict[str, Any]]:
    async with services.acquire() as conn:
        rows = await monitoring.open_steps_needing_attention(conn, now)
        calendars: dict[str, WorkCalendar] = {}
        for version in {r["calendar_version"] for r in rows}:
            snapshot = await monitoring.calendar_snapshot(conn, version)
            # A version not kept (written before calendars were recorded): use today's.
            calendars[version] = WorkCalendar(snapshot or services.calendar)
    return rank_stalled(rows, calendars.__getitem__, now)


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
