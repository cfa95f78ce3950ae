"""Staff, supervisors and administrators: inboxes, tasks, decisions, cancellation, audit.

Each route calls one use case of ``loket.services.tasks``. A task elsewhere answers 404,
exactly like a task that does not exist, so nothing leaks. Administrators and inspectors
read every task and audit trail; inspectors change nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from loket.api.deps import (
    AdminUser,
    AuditReader,
    IdempotencyKey,
    ServicesDep,
    StaffUser,
    TaskReader,
)
from loket.api.errors import AUTH_RESPONSES, CHANGE_RESPONSES, ERROR_RESPONSES, NEXT_LINK
from loket.api.paged import PageAfter, PageLimit, link_next
from loket.case.messages import ApplicationView
from loket.edge.params import RegistrationNumber, StepId
from loket.services import tasks
from loket.services.rows import InboxRow
from loket.services.tasks import AuditOut, CancelBody, DecideBody, TaskDetail

_RESPONSES = {**ERROR_RESPONSES, **AUTH_RESPONSES}
router = APIRouter(prefix="/api/staff", tags=["staff"], responses=_RESPONSES)
admin_router = APIRouter(prefix="/api/admin", tags=["admin"], responses=_RESPONSES)


@router.get(
    "/inbox",
    summary="Open tasks of my counters, soonest deadline first, one page at a time",
    responses={200: {"headers": {"Link": NEXT_LINK}}},
    description=(
        "Paged by deadline, then task: when more rows follow, the `Link` header holds the"
        ' next page\'s URL (`rel="next"`), whose `after` is an opaque cursor; rows added or'
        " closed between pages do not shift the pages that follow."
    ),
)
async def get_inbox(
    services: ServicesDep,
    user: StaffUser,
    request: Request,
    response: Response,
    limit: PageLimit = None,
    after: PageAfter = None,
) -> list[InboxRow]:
    page = await tasks.user_inbox_page(services, user, limit=limit, after=after)
    link_next(request, response, len(page.rows), page.next_after)
    return page.rows


@router.get(
    "/tasks/{registration_number}/{step_id}",
    summary="A task with the application, documents checklist, fees and history",
)
async def get_task(
    services: ServicesDep,
    user: TaskReader,
    registration_number: RegistrationNumber,
    step_id: StepId,
) -> TaskDetail:
    return await tasks.task_detail(services, user, registration_number, step_id)


@router.post(
    "/tasks/{registration_number}/{step_id}/claim",
    summary="Claim a task",
    responses=CHANGE_RESPONSES,
)
async def post_claim(
    services: ServicesDep,
    user: StaffUser,
    registration_number: RegistrationNumber,
    step_id: StepId,
    idempotency_key: IdempotencyKey,
) -> ApplicationView:
    return await tasks.claim_task(services, user, registration_number, step_id, key=idempotency_key)


@router.post(
    "/tasks/{registration_number}/{step_id}/decide",
    summary="Decide a task; answers the application's new state (409 with the code if refused)",
    responses=CHANGE_RESPONSES,
)
async def post_decide(
    services: ServicesDep,
    user: StaffUser,
    registration_number: RegistrationNumber,
    step_id: StepId,
    body: DecideBody,
    idempotency_key: IdempotencyKey,
) -> ApplicationView:
    return await tasks.decide_task(
        services,
        user,
        registration_number,
        step_id,
        body.outcome,
        body.note,
        key=idempotency_key,
        receipt_number=body.receipt_number,
        verdicts=body.verdicts,
        corrections=body.corrections,
    )


@admin_router.post(
    "/applications/{registration_number}/cancel",
    summary="Cancel an application (admin)",
    responses=CHANGE_RESPONSES,
)
async def post_cancel(
    services: ServicesDep,
    user: AdminUser,
    registration_number: RegistrationNumber,
    body: CancelBody,
    idempotency_key: IdempotencyKey,
) -> ApplicationView:
    return await tasks.cancel_application(
        services, user, registration_number, body.reason, key=idempotency_key
    )


@admin_router.get(
    "/applications/{registration_number}/audit",
    summary="The audit trail in order, with the hash chain's verification",
)
async def get_audit(
    services: ServicesDep, user: AuditReader, registration_number: RegistrationNumber
) -> AuditOut:
    return await tasks.application_audit(services, registration_number)
