"""Complaints (issue 12b): file one (from the public pages or from tracking, with or
without a registration number, perhaps forwarded from SP4N-LAPOR!), follow it with its own
tracking number and access code, reopen it before it closes; and the supervision tasks of
deemed approvals, which staff of the agency close with a note.

A complaint is an application of the complaint route (``definitions/complaints/``): the
same submission, workflow, inbox and audit as a permit. Its form is checked by the route's
own form (formats of the registration number and the LAPOR! ticket included).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loket.case.applicant_choice import ApplicantChoiceRequest
from loket.case.messages import Actor
from loket.route.form import normalize
from loket.route.model import PermitType, TaskStep
from loket.services.context import Services, utcnow
from loket.services.errors import Forbidden, Invalid, NotFound
from loket.services.public import check_access, tracking_not_found
from loket.services.rows import User
from loket.services.submission import submit_application
from loket.services.workflow import update_workflow
from loket.store import complaints as store
from loket.store import queries
from loket.store.complaints import SupervisionRow as SupervisionRow
from loket.text import Line, Text

log = logging.getLogger(__name__)

ROUTE_ID = "ADU"  # definitions/complaints/complaint.yaml; makes ADU-2026-000123
CLOSING_STEP = "closing"  # the step the complainant may reopen from
REOPEN = "reopen"
TRACK_PATH = "/api/public/complaints/{tracking_number}/track"  # POST the access code


class ComplaintBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form: dict[str, Any] = Field(description="the complaint route's form fields")
    source: Literal["public", "tracking"] = "public"


class ComplaintFiled(BaseModel):
    model_config = ConfigDict(frozen=True)

    tracking_number: str
    access_code: str = Field(description="shown once: the complainant keeps it to follow up")
    tracking_url: str


class ReopenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_code: Line = Field(min_length=1, max_length=64)
    note: Text = Field(default="", max_length=4000)


class ComplaintTracking(BaseModel):
    model_config = ConfigDict(frozen=True)

    tracking: queries.Tracking
    related_registration: str | None
    lapor_ticket: str | None
    source: str
    answers: list[str] = Field(description="the agencies' answers, oldest first")
    may_reopen: bool = Field(description="answered and not yet closed: the complainant may reopen")


def route(services: Services) -> PermitType:
    return services.catalog.complaints[ROUTE_ID]


async def file_complaint(
    services: Services,
    form: dict[str, Any],
    *,
    source: Literal["public", "tracking"],
    idempotency_key: str,
) -> ComplaintFiled:
    complaint_route = route(services)
    data = normalize(complaint_route, form)  # FormError names the field
    related = str(data.get("registration_number") or "") or None
    if related is not None:
        async with services.acquire() as conn:
            known = await store.application_exists(conn, related)
        if not known:
            raise Invalid(
                "invalid_request",
                fields="registration_number",
                errors=[{"field": "registration_number", "code": "not_found", "message": ""}],
            )
    ticket = str(data.get("lapor_ticket") or "") or None
    done = await submit_application(
        client=services.client,
        pool=services.pool,
        permit=complaint_route,
        calendar=services.calendar,
        form=form,
        task_queue=services.settings.temporal_task_queue,
        now=utcnow(),
        search_attributes=services.settings.search_attributes,
        escalation_spread_s=services.settings.escalation_spread_s,
        idempotency_key=f"complaint:{idempotency_key}",
        access_code_secret=services.settings.secret_key.get_secret_value().encode(),
    )
    number = done.registration_number
    async with services.acquire() as conn:
        await store.record_complaint(
            conn,
            number,
            related_registration=related,
            lapor_ticket=ticket,
            source="lapor" if ticket else source,
        )
    log.info("complaint %s filed (source %s)", number, "lapor" if ticket else source)
    return ComplaintFiled(
        tracking_number=number,
        access_code=done.access_code,
        tracking_url=TRACK_PATH.format(tracking_number=number),
    )


def _answer_steps(complaint_route: PermitType) -> set[str]:
    """Steps whose outcome hands the file to the closing step: their notes are answers."""
    return {
        s.id
        for s in complaint_route.steps
        if isinstance(s, TaskStep) and CLOSING_STEP in s.outcomes.values()
    }


async def track_complaint(services: Services, tracking_number: str, code: str) -> ComplaintTracking:
    await check_access(services, "track_complaint", tracking_number, code)
    async with services.acquire() as conn:
        row = await store.complaint(conn, tracking_number)
        view = await queries.tracking(conn, services.catalog, tracking_number)
        tasks = await queries.tasks_of(conn, tracking_number)
    if row is None or view is None:
        raise tracking_not_found()
    complaint_route = route(services)
    answering = _answer_steps(complaint_route)
    answers = [t.note for t in tasks if t.step_id in answering and t.state == "done" and t.note]
    return ComplaintTracking(
        tracking=view.model_copy(update={"permit_name": complaint_route.name}),
        related_registration=row.related_registration,
        lapor_ticket=row.lapor_ticket,
        source=row.source,
        answers=answers,
        may_reopen=any(s.step_id == CLOSING_STEP for s in view.current_steps),
    )


async def reopen_complaint(
    services: Services, tracking_number: str, code: str, *, note: str, idempotency_key: str
) -> ComplaintTracking:
    """The complainant is not satisfied with the answer: the complaint goes back to the
    complaints desk (the workflow refuses once it has closed)."""
    await check_access(services, "reopen_complaint", tracking_number, code)
    request = ApplicantChoiceRequest(
        step_id=CLOSING_STEP,
        outcome=REOPEN,
        note=note,
        actor=Actor(username=f"applicant:{tracking_number}", role="applicant"),
    )
    await update_workflow(
        services,
        tracking_number,
        "applicant_choose",
        request,
        operation="reopen_complaint",
        key=idempotency_key,
    )
    return await track_complaint(services, tracking_number, code)


# --- supervision of deemed approvals ----------------------------------------------------


class CloseSupervisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = Field(min_length=3, max_length=4000)


def _supervising_agencies(user: User) -> list[str]:
    """Staff see the supervision tasks of the agencies whose counters they serve."""
    agencies = {c.split("/", 1)[0] for c in user.counters}
    if user.agency and user.role == "supervisor":
        agencies.add(user.agency)
    return sorted(agencies)


async def supervision_inbox(services: Services, user: User) -> list[SupervisionRow]:
    async with services.acquire() as conn:
        return await store.supervisions(conn, _supervising_agencies(user))


async def close_supervision(
    services: Services, user: User, registration_number: str, step_id: str, note: str
) -> SupervisionRow:
    """Close it with a note, once; a repeat (same task) answers the first close."""
    if user.role not in ("staff", "supervisor"):
        raise Forbidden("forbidden", roles="staff, supervisor")
    async with services.acquire() as conn:
        task = await store.supervision(conn, registration_number, step_id)
        if task is None or task.agency not in _supervising_agencies(user):
            raise NotFound(
                "task_not_found", registration_number=registration_number, step_id=step_id
            )
        if task.closed_at is not None:
            return task
        closed = await store.close_supervision(
            conn, registration_number, step_id, task.attempt, closed_by=user.username, note=note
        )
        if closed is None:  # closed by someone else meanwhile
            again = await store.supervision(conn, registration_number, step_id)
            assert again is not None
            return again
    log.info("supervision of %s/%s closed by %s", registration_number, step_id, user.username)
    return closed
