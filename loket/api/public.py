"""The public side: the published service standard of each permit type, the fee simulator,
submission, tracking by registration number and access code, and resubmission
(``loket.services.published`` and ``.public``).

No sign-in here. The access code travels in request bodies (POST), never in URLs, so it
does not end up in logs; a wrong code answers exactly like an unknown number.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from loket.api.deps import IdempotencyKey, ServicesDep
from loket.api.errors import CHANGE_RESPONSES, ERROR_RESPONSES
from loket.edge.params import PermitId, RegistrationNumber
from loket.services import public
from loket.services.public import ResubmitBody, SubmitBody, Submitted, TrackBody
from loket.services.published import (
    FeePreview,
    FormBody,
    PermitDetail,
    PermitSummary,
    list_permits,
    permit_detail,
    preview_fees,
)
from loket.services.rows import Tracking

router = APIRouter(prefix="/api/public", tags=["public"], responses=ERROR_RESPONSES)


@router.get("/permits", summary="Permit types with service time and fee summary")
async def get_permits(services: ServicesDep) -> list[PermitSummary]:
    return list_permits(services.catalog)


@router.get("/permits/{permit_id}", summary="The published service standard of a permit type")
async def get_permit(services: ServicesDep, permit_id: PermitId) -> PermitDetail:
    return permit_detail(services.catalog, services.permit(permit_id))


@router.post("/permits/{permit_id}/fees/preview", summary="Fee simulator (the billing formula)")
async def post_fee_preview(
    services: ServicesDep, permit_id: PermitId, body: FormBody
) -> FeePreview:
    return preview_fees(services.permit(permit_id), body.form)


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Submit an application; answers the registration number and access code",
)
async def post_application(
    services: ServicesDep, body: SubmitBody, idempotency_key: IdempotencyKey
) -> Submitted:
    return await public.submit(
        services,
        body.permit_type,
        body.form,
        idempotency_key=idempotency_key,
        contact=body.contact,
    )


@router.post(
    "/applications/{registration_number}/track",
    summary="Status, where the file is, due dates, fees and public history",
)
async def post_track(
    services: ServicesDep, registration_number: RegistrationNumber, body: TrackBody
) -> Tracking:
    return await public.track(services, registration_number, body.access_code)


@router.post(
    "/applications/{registration_number}/resubmit",
    summary="Send corrections for a file returned to the applicant",
    responses=CHANGE_RESPONSES,
)
async def post_resubmit(
    services: ServicesDep,
    registration_number: RegistrationNumber,
    body: ResubmitBody,
    idempotency_key: IdempotencyKey,
) -> Tracking:
    return await public.resubmit(
        services,
        registration_number,
        body.access_code,
        idempotency_key=idempotency_key,
        note=body.note,
        corrections=body.form,
    )
