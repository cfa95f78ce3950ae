"""Supervisors: their agency's open tasks by staff member, and reassigning them
(``loket.services.supervisor``). A task at another agency answers 404, as in the staff API.
"""

from __future__ import annotations

from fastapi import APIRouter

from loket.api.deps import IdempotencyKey, ServicesDep, SupervisorUser
from loket.api.errors import AUTH_RESPONSES, CHANGE_RESPONSES, ERROR_RESPONSES
from loket.case.messages import ApplicationView
from loket.edge.params import RegistrationNumber, StepId
from loket.services import supervisor
from loket.services.supervisor import ReassignBody, Workload

router = APIRouter(
    prefix="/api/supervisor",
    tags=["supervisor"],
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
)


@router.get("/tasks", summary="My agency's open tasks, grouped by staff member")
async def get_workload(services: ServicesDep, user: SupervisorUser) -> Workload:
    return await supervisor.workload(services, user)


@router.post(
    "/tasks/{registration_number}/{step_id}/reassign",
    summary="Give an open task to another member of staff (409 with the code if refused)",
    responses=CHANGE_RESPONSES,
)
async def post_reassign(
    services: ServicesDep,
    user: SupervisorUser,
    registration_number: RegistrationNumber,
    step_id: StepId,
    body: ReassignBody,
    idempotency_key: IdempotencyKey,
) -> ApplicationView:
    return await supervisor.reassign_task(
        services, user, registration_number, step_id, body.to, body.reason, key=idempotency_key
    )
