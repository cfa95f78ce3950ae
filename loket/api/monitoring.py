"""Deadlines and stalled work: the inspectorate's view across agencies, supervisors'
extensions, administrators' recomputation with a new calendar version."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from loket.api.deps import (
    AdminUser,
    AuditReader,
    Forbidden,
    RequireRole,
    Services,
    ServicesDep,
    update_workflow,
    utcnow,
)
from loket.calendar import WorkCalendar
from loket.monitoring import rank_stalled
from loket.store import monitoring
from loket.store.users import User
from workflows.messages import ApplicationView, ExtendRequest, RecomputeRequest

router = APIRouter(prefix="/api/admin/monitoring", tags=["monitoring"])
deadlines_router = APIRouter(tags=["deadlines"])


class ExtendIn(BaseModel):
    extra: str = Field(description="working time to add, e.g. '2d' or '4h'", examples=["2d"])
    reason: str = Field(min_length=3, max_length=4000)
    request_id: str | None = Field(
        default=None, max_length=64, description="client's id: a repeated request acts once"
    )


class RecomputeIn(BaseModel):
    reason: str = Field(min_length=3, max_length=4000)
    request_id: str | None = Field(default=None, max_length=64)


SupervisorUser = Annotated[User, Depends(RequireRole("supervisor"))]


async def stalled_steps(services: Services, now: datetime) -> list[dict[str, Any]]:
    async with services.pool.acquire() as conn:
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
    permit_type: str | None = None,
) -> dict[str, Any]:
    end = end or utcnow()
    start = start or end - timedelta(days=30)
    async with services.pool.acquire() as conn:
        rows = await monitoring.sla_compliance(conn, start, end, permit_type)
    return {"start": start, "end": end, "permit_type": permit_type, "steps": rows}


@router.get("/applications/{registration_number}/escalations", summary="Escalation history")
async def get_escalations(
    services: ServicesDep, user: AuditReader, registration_number: str
) -> list[dict[str, Any]]:
    async with services.pool.acquire() as conn:
        return await monitoring.escalation_history(conn, registration_number)


@deadlines_router.post(
    "/api/supervisor/tasks/{registration_number}/{step_id}/extend",
    summary="Extend a step's deadline, with the reason recorded",
)
async def post_extend(
    services: ServicesDep,
    user: SupervisorUser,
    registration_number: str,
    step_id: str,
    body: ExtendIn,
) -> ApplicationView:
    if user.agency is None:
        raise Forbidden("a supervisor without an agency extends nothing")
    request = ExtendRequest(
        step_id=step_id, extra=body.extra, reason=body.reason, actor=user.actor()
    )
    request_id = body.request_id or utcnow().strftime("%Y%m%dT%H%M%S%f")
    return await update_workflow(
        services,
        registration_number,
        "extend_deadline",
        request,
        update_id=f"extend:{step_id}:{user.username}:{request_id}",
    )


@deadlines_router.post(
    "/api/admin/applications/{registration_number}/recompute-deadlines",
    summary="Recompute open deadlines with the current calendar version (audited)",
)
async def post_recompute(
    services: ServicesDep, user: AdminUser, registration_number: str, body: RecomputeIn
) -> ApplicationView:
    async with services.pool.acquire() as conn:
        await monitoring.remember_calendar(conn, services.calendar)
    request = RecomputeRequest(calendar=services.calendar, reason=body.reason, actor=user.actor())
    return await update_workflow(
        services,
        registration_number,
        "recompute_deadlines",
        request,
        update_id=f"recompute:{services.calendar.version}:{body.request_id or utcnow().isoformat()}",
    )
