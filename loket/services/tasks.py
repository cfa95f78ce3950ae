"""Staff work: the inbox, a task with its application, claim, decide, cancel, audit.

A user sees and works only tasks at their own counters (a supervisor: anywhere in their
agency). A task elsewhere is ``NotFound`` exactly like a task that does not exist, so
nothing leaks, and the attempt is logged; the workflow's validators check the counter again
before any decision counts. Administrators and inspectors read every task.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loket.case.document_models import VerdictInput
from loket.case.messages import (
    ApplicationStatus,
    ApplicationView,
    CancelRequest,
    ClaimRequest,
    DecisionRequest,
)
from loket.fees import FeeAssessment, assess
from loket.route.standard import required_documents
from loket.services.context import Services
from loket.services.errors import application_not_found, task_not_found
from loket.services.paged import cursor_refused, page_request
from loket.services.published import DocumentOut
from loket.services.security import log_refused
from loket.services.workflow import update_workflow
from loket.store import billing, inbox, paging, queries
from loket.store.billing import BillRow
from loket.store.records import verify_audit_chain
from loket.store.users import User
from loket.text import Line, Text

log = logging.getLogger(__name__)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ApplicationSummary(_Out):
    registration_number: str
    permit_type: str
    permit_name: str
    route_version: int
    status: ApplicationStatus
    submitted_at: datetime
    service_due_at: datetime | None
    waiting_for_applicant: bool
    data: dict[str, object]


class TaskDetail(_Out):
    task: queries.TaskRow
    application: ApplicationSummary
    outcomes: list[str] = Field(description="the outcomes this step offers")
    documents: list[DocumentOut] = Field(description="checklist of the documents required")
    fees: FeeAssessment
    fees_assessed: bool = Field(description="false: a preview; the bill is not issued yet")
    history: list[queries.AuditRow]
    bill: BillRow | None = Field(default=None, description="the open bill a payment step awaits")


class VerdictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot: Line = Field(min_length=1, max_length=64)
    verdict: Literal["complete", "incomplete", "not_applicable"]
    note: Text = Field(default="", max_length=1000)


class DecideBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Line = Field(min_length=1, max_length=64)
    note: Text = Field(default="", max_length=4000)
    receipt_number: Line | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="the SSRD's number: required to approve a billed payment step by hand",
    )
    # Documents (10A): a verdict per item checked; on a return, the slots to upload again.
    verdicts: list[VerdictBody] = Field(default_factory=list, max_length=50)
    corrections: list[Line] = Field(default_factory=list, max_length=50)


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3, max_length=4000)


class AuditOut(_Out):
    registration_number: str
    chain_intact: bool
    broken_seqs: list[int] = Field(description="events whose hash does not match their content")
    events: list[queries.AuditRow]


def may_read(user: User, agency: str, counter: str) -> bool:
    return user.role in ("admin", "inspector") or user.serves(agency, counter)


def _inbox_agencies(user: User) -> list[str]:
    return [user.agency] if user.role == "supervisor" and user.agency else []


async def user_inbox(services: Services, user: User) -> list[queries.InboxRow]:
    """Open and returned tasks of the user's counters (a supervisor's: the whole agency)."""
    async with services.acquire() as conn:
        return await inbox.inbox(conn, counters=user.counters, agencies=_inbox_agencies(user))


async def user_inbox_page(
    services: Services, user: User, *, limit: int | None = None, after: str | None = None
) -> inbox.InboxPage:
    """One page of :func:`user_inbox`, from just after the cursor ``after``."""
    size, cursor = page_request(limit, after)
    async with services.acquire() as conn:
        try:
            return await inbox.inbox_page(
                conn,
                counters=user.counters,
                agencies=_inbox_agencies(user),
                limit=size,
                after=cursor,
            )
        except paging.CursorInvalid:
            raise cursor_refused() from None


async def task_and_application(
    services: Services,
    user: User,
    registration_number: str,
    step_id: str,
    *,
    action: str = "read_task",
    works: bool = False,
) -> tuple[queries.TaskRow, queries.ApplicationRow]:
    """The task and its application if ``user`` may read it (``works``: work it, i.e. serves
    its counter); otherwise the one ``NotFound`` for "not there" and "not yours", logged."""
    async with services.acquire() as conn:
        task = await queries.task(conn, registration_number, step_id)
        app = await queries.application(conn, registration_number)
    if task is None or app is None:
        await log_refused(
            services,
            action=action,
            code="unknown_step",
            user=user,
            registration_number=registration_number,
            step_id=step_id,
        )
        raise task_not_found(registration_number, step_id)
    rule = user.serves if works else functools.partial(may_read, user)
    if not rule(task.agency, task.counter):
        await log_refused(
            services,
            action=action,
            code="not_your_counter",
            user=user,
            registration_number=registration_number,
            step_id=step_id,
            details={"agency": task.agency, "counter": task.counter},
        )
        raise task_not_found(registration_number, step_id)
    return task, app


async def task_detail(
    services: Services, user: User, registration_number: str, step_id: str
) -> TaskDetail:
    task, app = await task_and_application(services, user, registration_number, step_id)
    async with services.acquire() as conn:
        history = await queries.audit_trail(conn, registration_number)
        bill = await billing.open_bill_of_step(conn, registration_number, step_id)
    # Outcomes, documents and fees of the version the application is pinned to.
    permit = await services.pinned_permit(app.permit_type, app.route_version)
    step = queries.task_step(permit, step_id)
    fees = app.fees
    if fees is None and permit is not None:
        fees = assess(permit.fees, app.data)
    return TaskDetail(
        task=task,
        application=ApplicationSummary(
            registration_number=app.registration_number,
            permit_type=app.permit_type,
            permit_name=permit.name if permit else app.permit_type,
            route_version=app.route_version,
            status=app.status,
            submitted_at=app.submitted_at,
            service_due_at=app.service_due_at,
            waiting_for_applicant=app.waiting_for_applicant,
            data=app.data,
        ),
        outcomes=list(step.outcomes) if step else [],
        documents=[
            DocumentOut.of(d) for d in (required_documents(permit, app.data) if permit else [])
        ],
        fees=fees or FeeAssessment(free=True, lines=[], total=0),
        fees_assessed=app.fees is not None,
        history=history,
        bill=bill,
    )


async def claim_task(
    services: Services, user: User, registration_number: str, step_id: str, *, key: str
) -> ApplicationView:
    await task_and_application(
        services, user, registration_number, step_id, action="claim", works=True
    )
    view = await update_workflow(
        services,
        registration_number,
        "claim",
        ClaimRequest(step_id=step_id, actor=user.actor()),
        operation="claim",
        key=key,
        user=user,
        step_id=step_id,
    )
    log.info("%s claimed %s/%s", user.username, registration_number, step_id)
    return view


async def decide_task(
    services: Services,
    user: User,
    registration_number: str,
    step_id: str,
    outcome: str,
    note: str = "",
    *,
    key: str,
    receipt_number: str | None = None,
    verdicts: Sequence[VerdictBody] = (),
    corrections: Sequence[str] = (),
) -> ApplicationView:
    """Send the decision to the workflow; its answer is the application's new state.

    The key makes the Update ID: the same request again (a retry, a double click) is
    answered with the first result, and acts once."""
    await task_and_application(
        services, user, registration_number, step_id, action="decide", works=True
    )
    view = await update_workflow(
        services,
        registration_number,
        "decide",
        DecisionRequest(
            step_id=step_id,
            outcome=outcome,
            note=note,
            actor=user.actor(),
            receipt_number=receipt_number,
            verdicts=tuple(VerdictInput(**v.model_dump()) for v in verdicts),
            corrections=tuple(corrections),
        ),
        operation="decide",
        key=key,
        user=user,
        step_id=step_id,
    )
    log.info("%s decided %s/%s: %s", user.username, registration_number, step_id, outcome)
    return view


async def cancel_application(
    services: Services, user: User, registration_number: str, reason: str, *, key: str
) -> ApplicationView:
    async with services.acquire() as conn:
        app = await queries.application(conn, registration_number)
    if app is None:
        raise application_not_found(registration_number)
    view = await update_workflow(
        services,
        registration_number,
        "cancel",
        CancelRequest(reason=reason, actor=user.actor()),
        operation="cancel",
        key=key,
        user=user,
    )
    log.info("%s cancelled %s", user.username, registration_number)
    return view


async def application_audit(services: Services, registration_number: str) -> AuditOut:
    """The audit trail in order, with the verification of its hash chain."""
    async with services.acquire() as conn:
        if await queries.application(conn, registration_number) is None:
            raise application_not_found(registration_number)
        events = await queries.audit_trail(conn, registration_number)
        broken = await verify_audit_chain(conn, registration_number)
    return AuditOut(
        registration_number=registration_number,
        chain_intact=not broken,
        broken_seqs=broken,
        events=events,
    )
