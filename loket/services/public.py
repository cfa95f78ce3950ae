"""The applicant's use cases: submit, track by registration number and access code, and
send the corrections asked for.

No sign-in: the access code is the key, checked after the brakes; a wrong code answers
exactly like an unknown number.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loket.case.messages import Actor, ResubmitRequest
from loket.contact import ContactIn
from loket.route.form import FormError, merge_corrections
from loket.services import brakes
from loket.services.context import Services, utcnow
from loket.services.errors import NotFound
from loket.services.published import FormBody
from loket.services.submission import access_code_matches, submit_application
from loket.services.workflow import update_workflow
from loket.store import queries, submissions
from loket.text import Line, Text

log = logging.getLogger(__name__)

# Where an applicant follows their file (POST the access code there).
TRACKING_PATH = "/api/public/applications/{registration_number}/track"


class SubmitBody(FormBody):
    permit_type: Line = Field(max_length=12)
    contact: ContactIn | None = Field(
        default=None, description="phone and/or e-mail for notifications, with consent"
    )


class Submitted(BaseModel):
    model_config = ConfigDict(frozen=True)

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
    services: Services,
    permit_type: str,
    form: dict[str, Any],
    *,
    idempotency_key: str,
    contact: ContactIn | None = None,
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
        escalation_spread_s=services.settings.escalation_spread_s,
        idempotency_key=f"submit:{idempotency_key}",
        access_code_secret=services.settings.secret_key.get_secret_value().encode(),
        contact=contact,
    )
    reg = done.registration_number
    log.info("application %s submitted", reg)
    return Submitted(
        registration_number=reg,
        access_code=done.access_code,
        tracking_url=TRACKING_PATH.format(registration_number=reg),
    )


def tracking_not_found() -> NotFound:
    """The one answer for an unknown number, a wrong code and a number that names nothing."""
    return NotFound("tracking_not_found")


async def check_access(
    services: Services, action: str, registration_number: str, code: str
) -> None:
    """The brakes first, then the code; a wrong code answers like an unknown number."""
    await brakes.check_tracking(services, action, registration_number)
    async with services.acquire() as conn:
        stored = await submissions.access_code_hash(conn, registration_number)
    if not access_code_matches(code, stored):
        await brakes.wrong_access_code(services, action, registration_number)
        raise tracking_not_found()


async def _tracking(services: Services, registration_number: str) -> queries.Tracking:
    async with services.acquire() as conn:
        view = await queries.tracking(conn, services.catalog, registration_number)
    if view is None:
        raise tracking_not_found()
    return view


async def track(services: Services, registration_number: str, code: str) -> queries.Tracking:
    await check_access(services, "track", registration_number, code)
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
    await check_access(services, "resubmit", registration_number, code)
    async with services.acquire() as conn:
        app = await queries.application(conn, registration_number)
    if app is None:
        raise tracking_not_found()
    data = None
    if corrections:
        # Checked against the form of the version the application is pinned to, for an
        # error naming the field; the workflow checks again.
        pinned = await services.pinned_permit(app.permit_type, app.route_version)
        data = merge_corrections(pinned, app.data, corrections) if pinned else corrections
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
