"""Deadlines and stalled work: the inspectorate's view across agencies, supervisors'
extensions, administrators' recomputation with a new calendar version
(``loket.services.monitoring`` and ``.deadlines``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from loket.api import security_log
from loket.api.deps import AdminUser, AuditReader, IdempotencyKey, ServicesDep, SupervisorUser
from loket.api.errors import AUTH_RESPONSES, CHANGE_RESPONSES, ERROR_RESPONSES, NEXT_LINK
from loket.api.paged import PageAfter, PageLimit, link_next
from loket.case.messages import ApplicationView
from loket.edge.params import PERMIT_PATTERN, RegistrationNumber, StepId
from loket.services import deadlines, monitoring, utcnow
from loket.services.deadlines import ExtendIn, RecomputeIn

_RESPONSES = {**ERROR_RESPONSES, **AUTH_RESPONSES}
router = APIRouter(prefix="/api/admin/monitoring", tags=["monitoring"], responses=_RESPONSES)
deadlines_router = APIRouter(tags=["deadlines"], responses=_RESPONSES)

SLA_DEFAULT_DAYS = 30


@router.get(
    "/stalled",
    summary="Open steps overdue or escalated, worst first, one page at a time",
    responses={200: {"headers": {"Link": NEXT_LINK}}},
    description=(
        "Steps past their deadline, earliest deadline (most working time overdue) first,"
        " then escalated steps not yet due, highest level first. When more rows follow, the"
        ' `Link` header holds the next page\'s URL (`rel="next"`), whose `after` is an'
        " opaque cursor."
    ),
)
async def get_stalled(
    services: ServicesDep,
    user: AuditReader,
    request: Request,
    response: Response,
    limit: PageLimit = None,
    after: PageAfter = None,
) -> list[dict[str, Any]]:
    page = await monitoring.stalled_page(services, utcnow(), limit=limit, after=after)
    link_next(request, response, len(page.rows), page.next_after)
    return page.rows


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
    start = start or end - timedelta(days=SLA_DEFAULT_DAYS)
    rows = await monitoring.sla_compliance(services, start, end, permit_type)
    return {"start": start, "end": end, "permit_type": permit_type, "steps": rows}


@router.get("/applications/{registration_number}/escalations", summary="Escalation history")
async def get_escalations(
    services: ServicesDep, user: AuditReader, registration_number: RegistrationNumber
) -> list[dict[str, Any]]:
    return await monitoring.escalations(services, registration_number)


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
    return await deadlines.extend_deadline(
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
    return await deadlines.recompute_deadlines(
        services, user, registration_number, body, key=idempotency_key
    )


# The security log sits with the other inspectorate reads: /api/admin/monitoring/security/...
router.include_router(security_log.router)
