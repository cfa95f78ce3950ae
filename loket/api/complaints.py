"""Complaints and the supervision of deemed approvals (``loket.services.complaints``).

Public: file a complaint (with or without a registration number, with the SP4N-LAPOR!
ticket when it came from there), follow it by tracking number and access code (POSTed,
never in the URL), reopen it before it closes. Staff: the open supervision tasks of their
agency, and closing one with a note.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from loket.api.deps import IdempotencyKey, ServicesDep, StaffUser
from loket.api.errors import CHANGE_RESPONSES, ERROR_RESPONSES
from loket.edge.params import RegistrationNumber, StepId
from loket.services import complaints
from loket.services.complaints import (
    CloseSupervisionBody,
    ComplaintBody,
    ComplaintFiled,
    ComplaintTracking,
    ReopenBody,
    SupervisionRow,
)
from loket.services.public import TrackBody

router = APIRouter(prefix="/api/public/complaints", tags=["complaints"], responses=ERROR_RESPONSES)
staff_router = APIRouter(prefix="/api/supervision", tags=["staff"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="File a complaint; answers its tracking number and access code",
)
async def post_complaint(
    services: ServicesDep, body: ComplaintBody, idempotency_key: IdempotencyKey
) -> ComplaintFiled:
    return await complaints.file_complaint(
        services, body.form, source=body.source, idempotency_key=idempotency_key
    )


@router.post("/{tracking_number}/track", summary="Where the complaint is, and its answers")
async def post_track_complaint(
    services: ServicesDep, tracking_number: RegistrationNumber, body: TrackBody
) -> ComplaintTracking:
    return await complaints.track_complaint(services, tracking_number, body.access_code)


@router.post(
    "/{tracking_number}/reopen",
    summary="Not satisfied with the answer: reopen the complaint before it closes",
    responses=CHANGE_RESPONSES,
)
async def post_reopen_complaint(
    services: ServicesDep,
    tracking_number: RegistrationNumber,
    body: ReopenBody,
    idempotency_key: IdempotencyKey,
) -> ComplaintTracking:
    return await complaints.reopen_complaint(
        services,
        tracking_number,
        body.access_code,
        note=body.note,
        idempotency_key=idempotency_key,
    )


@staff_router.get("", summary="Open supervision tasks of deemed approvals at my agency")
async def get_supervisions(services: ServicesDep, user: StaffUser) -> list[SupervisionRow]:
    return await complaints.supervision_inbox(services, user)


@staff_router.post(
    "/{registration_number}/{step_id}/close",
    summary="Close a supervision task with a note (once)",
    responses=CHANGE_RESPONSES,
)
async def post_close_supervision(
    services: ServicesDep,
    user: StaffUser,
    registration_number: RegistrationNumber,
    step_id: StepId,
    body: CloseSupervisionBody,
    idempotency_key: IdempotencyKey,
) -> SupervisionRow:
    return await complaints.close_supervision(
        services, user, registration_number, step_id, body.note
    )
