"""The public side: the published service standard of each permit type, the fee simulator,
submission, tracking by registration number and access code, and resubmission.

No sign-in here. The access code travels in request bodies (POST), never in URLs, so it
does not end up in logs; a wrong code answers exactly like an unknown number.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from loket.api import brakes
from loket.api.deps import IdempotencyKey, NotFound, Services, ServicesDep, update_workflow, utcnow
from loket.api.errors import CHANGE_RESPONSES, ERROR_RESPONSES
from loket.api.params import PermitId, RegistrationNumber
from loket.api.published import (
    FREE_LABEL,
    DocumentOut,
    FeePreview,
    FormBody,
    PermitDetail,
    PermitSummary,
    fee_summary,
    list_permits,
    permit_detail,
    preview_fees,
)
from loket.applications import access_code_matches, submit_application
from loket.route.form import FormError, merge_corrections
from loket.store import queries
from loket.text import Line, Text
from workflows.messages import Actor, ResubmitRequest

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/public", tags=["public"], responses=ERROR_RESPONSES)

# Where an applicant follows their file (POST the access code there).
TRACKING_PATH = "/api/public/applications/{registration_number}/track"

__all__ = [
    "FREE_LABEL",
    "DocumentOut",
    "FeePreview",
    "PermitDetail",
    "PermitSummary",
    "fee_summary",
    "list_permits",
    "permit_detail",
    "preview_fees",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- applications ------------------------------------------------------------------------


class SubmitBody(FormBody):
    permit_type: Line = Field(max_length=12)


class Submitted(_Out):
    registration_number: str
    access_code: str = Field(description="shown once: the applicant keeps it to track the file")
    tracking_url: str


class TrackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_code: Line = Field(min_length=1, max_length=64)


class ResubmitBody(TrackBody):
    note: Text = Field(default="", max_length=4000)
    form: dict[str, Any] | None = Field(
        default=None, description="corrected fields only; the others keep their values"
    )


async def submit(
    services: Services, permit_type: str, form: dict[str, Any], *, idempotency_key: str
) -> Submitted:
    permit = services.catalog.permits.get(permit_type)
    if permit is None:
        raise FormError(
            [{"field": "permit_type", "code": "not_a_choice", "message": "no such permit type"}]
        )
    # The key makes a retried submission the first one: same number, same access code.
    done = await submit_application(
        client=services.client,
        pool=services.pool,
        permit=permit,
        calendar=services.calendar,
        form=form,
        task_queue=services.settings.temporal_task_queue,
        now=utcnow(),
        search_attributes=services.settings.search_attributes,
        idempotency_key=f"submit:{idempotency_key}",
        access_code_secret=services.settings.secret_key.get_secret_value().encode(),
    )
    reg = done.registration_number
    log.info("application %s submitted", reg)
    return Submitted(
        registration_number=reg,
        access_code=done.access_code,
        tracking_url=TRACKING_PATH.format(registration_number=reg),
    )


def _no_such_application() -> NotFound:
    return NotFound("tracking_not_found")


async def _check_access(
    services: Services, action: str, registration_number: str, code: str
) -> None:
    """The brakes first, then the code; a wrong code answers like an unknown number."""
    await brakes.check_tracking(services, action, registration_number)
    async with services.acquire() as conn:
        stored = await queries.access_code_hash(conn, registration_number)
    if not access_code_matches(code, stored):
        await brakes.wrong_access_code(services, action, registration_number)
        raise _no_such_application()


async def _tracking(services: Services, registration_number: str) -> queries.Tracking:
    async with services.acquire() as conn:
        view = await queries.tracking(conn, services.catalog, registration_number)
    if view is None:
        raise _no_such_application()
    return view


async def track(services: Services, registration_number: str, code: str) -> queries.Tracking:
    await _check_access(services, "track", registration_number, code)
    return await _tracking(services, registration_number)


async def resubmit(
    services: Services,
    registration_number: str,
    code: str,
    *,
    idempotency_key: str,
    note: str = "",
    corrections: dict[str, Any] | None = None,
) -> queries.Tracking:
    """The applicant sends the corrections asked for; the returned steps reopen."""
    await _check_access(services, "resubmit", registration_number, code)
    async with services.acquire() as conn:
        app = await queries.application(conn, registration_number)
    if app is None:
        raise _no_such_application()
    data = None
    if corrections:
        permit = services.permit(app.permit_type)
        # Checked here for a 422 naming the field; the workflow checks again against the
        # route version the application is pinned to, should today's differ.
        data = (
            merge_corrections(permit, app.data, corrections)
            if permit.version == app.route_version
            else corrections
        )
    request = ResubmitRequest(
        actor=Actor(username=f"applicant:{registration_number}", role="applicant"),
        note=note,
        data=data,
    )
    await update_workflow(
        services,
        registration_number,
        "resubmit",
        request,
        operation="resubmit",
        key=idempotency_key,
    )
    return await _tracking(services, registration_number)


# --- routes ------------------------------------------------------------------------------


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
    return await submit(services, body.permit_type, body.form, idempotency_key=idempotency_key)


@router.post(
    "/applications/{registration_number}/track",
    summary="Status, where the file is, due dates, fees and public history",
)
async def post_track(
    services: ServicesDep, registration_number: RegistrationNumber, body: TrackBody
) -> queries.Tracking:
    return await track(services, registration_number, body.access_code)


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
) -> queries.Tracking:
    return await resubmit(
        services,
        registration_number,
        body.access_code,
        idempotency_key=idempotency_key,
        note=body.note,
        corrections=body.form,
    )
