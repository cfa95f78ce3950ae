"""Deadlines and stalled work: the inspectorate's view across agencies, supervisors'
extensions, administrators' recomputation with a new calendar version."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from loket.api import security_log
from loket.api.deps import (
    AdminUser,
    AuditReader,
    IdempotencyKey,
    Invalid,
    RequireRole,
    Services,
    ServicesDep,
    update_workflow,
    utcnow,
)
from loket.api.errors import (
    AUTH_RESPONSES,
    CHANGE_RESPONSES,
    ERROR_RESPONSES,
    application_not_found,
)
from loket.api.params import PERMIT_PATTERN, RegistrationNumber, StepId
from loket.api.staff import task_and_application
from loket.calendar import CalendarRangeError, CalendarSnapshot, WorkCalendar, WorkDuration
from loket.monitoring import rank_stalled
from loket.store import monitoring, queries
from loket.store.users import User
from loket.text import Line, Text
from workflows.messages import ApplicationView, ExtendRequest, RecomputeRequest

_RESPONSES = {**ERROR_RESPONSES, **AUTH_RESPONSES}
router = APIRouter(prefix="/api/admin/monitoring", tags=["monitoring"], responses=_RESPONSES)
deadlines_router = APIRouter(tags=["deadlines"], responses=_RESPONSES)


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extra: Line = Field(
        max_length=16, description="working time to add, e.g. '2d' or '4h'", examples=["2d"]
    )
    reason: Text = Field(min_length=3, max_length=4000)


class RecomputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3, max_length=4000)


SupervisorUser = Annotated[User, Depends(RequireRole("supervisor"))]


async def stalled_steps(services: Services, now: datetime) -> list[dict[str, Any]]:
    async with services.acquire() as conn:
        rows = await monitoring.open_steps_needing_attention(conn, now)
        calendars: dict[str, WorkCalendar] = {}
        for version in {r["calendar_version"] for r in rows}:
            snapshot = await monitoring.calendar_snapshot(conn, version)
            # A version not kept (written before calendars were recorded): use today's.
            calendars[version] = WorkCalendar(snapshot or services.calendar)
    return rank_stalled(rows, calendars.__getitem__, now)


@router.get("/stalled", summary="Open steps overdue or escalated, worst first")
async def get_stalled(services: ServicesDep, user: AuditReader) -> list[dict[str, Any]]:
    return await stalled_steps(services, utcnow())


@router.get("/sla", summary="SLA compliance per agency, counter and step")
async def get_sla(
    services: ServicesDep,
    user: AuditReader,
    start: Annotated[
        datetime | None, Query(description="closed from (default: 30 days ago)")
    ] = None,
    end: Annotated[datetime | None, Query(description="closed before (default: now)")] = None,
    permit_type: Annotated[str | None, Query(pattern=PERMIT_PATTERN, max_length=12)] = None,
) -> dict[str, Any]:
    end = end or utcnow()
    start = start or end - timedelta(days=30)
    async with services.acquire() as conn:
        rows = await monitoring.sla_compliance(conn, start, end, permit_type)
    return {"start": start, "end": end, "permit_type": permit_type, "steps": rows}


@router.get("/applications/{registration_number}/escalations", summary="Escalation history")
async def get_escalations(
    services: ServicesDep, user: AuditReader, registration_number: RegistrationNumber
) -> list[dict[str, Any]]:
    async with services.acquire() as conn:
        return await monitoring.escalation_history(conn, registration_number)


_CALENDARS: dict[str, WorkCalendar] = {}


def _work_calendar(snapshot: CalendarSnapshot) -> WorkCalendar:
    cached = _CALENDARS.get(snapshot.version)
    if cached is None:
        cached = _CALENDARS[snapshot.version] = WorkCalendar(snapshot)
    return cached


def checked_extension(services: Services, extra: str, due: datetime | None) -> WorkDuration:
    """The extension, if it parses and its deadline stays inside the calendar's years
    (a deadline past the last known year cannot be computed: refused here, before any
    Update)."""
    try:
        duration = WorkDuration.parse(extra)
    except ValueError:
        raise Invalid(
            "invalid_duration",
            errors=[{"field": "extra", "code": "invalid_duration", "message": "e.g. 2d or 4h"}],
            extra=extra,
        ) from None
    try:
        _work_calendar(services.calendar).add(due or utcnow(), duration)
    except CalendarRangeError:
        raise Invalid(
            "outside_calendar",
            errors=[{"field": "extra", "code": "outside_calendar", "message": "too far"}],
            extra=extra,
        ) from None
    return duration


async def extend_deadline(
    services: Services,
    user: User,
    registration_number: str,
    step_id: str,
    body: ExtendIn,
    *,
    key: str,
) -> ApplicationView:
    """A supervisor extends a step of their own agency; another agency's answers the same
    404 as a missing task, so nothing about it leaks."""
    task, _ = await task_and_application(
        services,
        user,
        registration_number,
        step_id,
        action="extend",
        works=True,
    )
    checked_extension(services, body.extra, task.due_at)
    request = ExtendRequest(
        step_id=step_id, extra=body.extra, reason=body.reason, actor=user.actor()
    )
    return await update_workflow(
        services,
        registration_number,
        "extend_deadline",
        request,
        operation="extend",
        key=key,
        user=user,
        step_id=step_id,
    )


async def recompute_deadlines(
    services: Services, user: User, registration_number: str, body: RecomputeIn, *, key: str
) -> ApplicationView:
    async with services.acquire() as conn:
        if await queries.application(conn, registration_number) is None:
            raise application_not_found(registration_number)
        await monitoring.remember_calendar(conn, services.calendar)
    request = RecomputeRequest(calendar=services.calendar, reason=body.reason, actor=user.actor())
    return await update_workflow(
        services,
        registration_number,
        "recompute_deadlines",
        request,
        operation="recompute",
        key=key,
        user=user,
    )


@deadlines_router.post(
    "/api/supervisor/tasks/{registration_number}/{step_id}/extend",
    summary="Extend a step's deadline, with the reason recorded",
    responses=CHANGE_RESPONSES,
)
async def post_extend(
    services: ServicesDep,
    user: SupervisorUser,
    registration_number: RegistrationNumber,
    step_id: StepId,
    body: ExtendIn,
    idempotency_key: IdempotencyKey,
) -> ApplicationView:
    return await extend_deadline(
        services, user, registration_number, step_id, body, key=idempotency_key
    )


@deadlines_router.post(
    "/api/admin/applications/{registration_number}/recompute-deadlines",
    summary="Recompute open deadlines with the current calendar version (audited)",
    responses=CHANGE_RESPONSES,
)
async def post_recompute(
    services: ServicesDep,
    user: AdminUser,
    registration_number: RegistrationNumber,
    body: RecomputeIn,
    idempotency_key: IdempotencyKey,
) -> ApplicationView:
    return await recompute_deadlines(services, user, registration_number, body, key=idempotency_key)


# The security log sits with the other inspectorate reads: /api/admin/monitoring/security/...
router.include_router(security_log.router)
