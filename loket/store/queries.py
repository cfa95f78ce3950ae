"""Reads of the read model: inboxes, tasks, applications, public tracking, audit trails.

Only reads: the workflow's activities write these tables. Results are pydantic models so
the API returns them as they are and web pages render them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from loket.case.messages import ApplicationStatus, TaskState
from loket.fees import FeeAssessment
from loket.route.loader import Catalog
from loket.route.model import PermitType, TaskStep
from loket.store.billing import FeeState, fee_state
from loket.store.db import Conn

OPEN_STATES = ("open", "returned")


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class InboxRow(_Row):
    registration_number: str
    permit_type: str
    step_id: str
    attempt: int
    name: str
    agency: str
    counter: str
    state: TaskState
    clock: Literal["running", "paused"]
    opened_at: datetime
    due_at: datetime | None
    claimed_by: str | None
    escalation_level: int


class TaskRow(InboxRow):
    calendar_version: str
    outcome: str | None
    note: str | None
    decided_by: str | None
    closed_at: datetime | None


class ApplicationRow(_Row):
    registration_number: str
    permit_type: str
    route_version: int
    status: ApplicationStatus
    data: dict[str, Any]
    submitted_at: datetime
    service_due_at: datetime | None
    calendar_version: str
    current_steps: list[str]
    waiting_for_applicant: bool
    fees: FeeAssessment | None
    finished_at: datetime | None
    last_seq: int


class AuditRow(_Row):
    seq: int
    event: str
    at: datetime
    actor: str
    actor_role: str
    step_id: str | None
    attempt: int | None
    from_state: str | None
    to_state: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class TrackedStep(_Row):
    """Where the file is: one open (or returned) step, with names the public reads."""

    step_id: str
    name: str
    agency: str
    agency_name: str
    counter: str
    counter_name: str
    state: TaskState
    clock: Literal["running", "paused"]
    opened_at: datetime
    due_at: datetime | None


class PublicEvent(_Row):
    """An audit event as the applicant sees it: no staff names, no internal notes."""

    seq: int
    at: datetime
    event: str
    by: str  # the actor's role: applicant, staff, supervisor, admin, system
    step_id: str | None = None
    step_name: str | None = None
    outcome: str | None = None
    note: str | None = None  # only the reason a file was returned for corrections
    reason: str | None = None
    details: dict[str, Any] = Field(
        default_factory=dict, description="the public part of the event's details (data)"
    )


class Tracking(_Row):
    registration_number: str
    permit_type: str
    permit_name: str
    status: ApplicationStatus
    submitted_at: datetime
    service_due_at: datetime | None
    waiting_for_applicant: bool
    finished_at: datetime | None
    current_steps: list[TrackedStep]
    fees: FeeAssessment | None
    history: list[PublicEvent]
    fee_state: FeeState | None = None  # billing (issue 11): Gratis, dibebaskan, the SKRD


# --- inbox and tasks ---------------------------------------------------------------------

_TASK_COLUMNS = """
    t.registration_number, a.permit_type, t.step_id, t.attempt, t.name, t.agency, t.counter,
    t.state, t.clock, t.opened_at, t.due_at, t.claimed_by, t.escalation_level,
    t.calendar_version, t.outcome, t.note, t.decided_by, t.closed_at
"""


async def task(conn: Conn, registration_number: str, step_id: str) -> TaskRow | None:
    """The latest attempt of ``step_id`` in an application."""
    row = await conn.fetchrow(
        f"""
        SELECT {_TASK_COLUMNS}
        FROM tasks t JOIN applications a USING (registration_number)
        WHERE t.registration_number = $1 AND t.step_id = $2
        ORDER BY t.attempt DESC LIMIT 1
        """,
        registration_number,
        step_id,
    )
    return TaskRow.model_validate(dict(row)) if row is not None else None


async def tasks_of(conn: Conn, registration_number: str) -> list[TaskRow]:
    """Every task row of an application, in the order they were opened."""
    rows = await conn.fetch(
        f"""
        SELECT {_TASK_COLUMNS}
        FROM tasks t JOIN applications a USING (registration_number)
        WHERE t.registration_number = $1 ORDER BY t.opened_at, t.id
        """,
        registration_number,
    )
    return [TaskRow.model_validate(dict(r)) for r in rows]


# --- applications ------------------------------------------------------------------------


async def application(conn: Conn, registration_number: str) -> ApplicationRow | None:
    row = await conn.fetchrow(
        """
        SELECT registration_number, permit_type, route_version, status, data, submitted_at,
               service_due_at, calendar_version, current_steps, waiting_for_applicant, fees,
               finished_at, last_seq
        FROM applications WHERE registration_number = $1
        """,
        registration_number,
    )
    return ApplicationRow.model_validate(dict(row)) if row is not None else None


# --- audit -------------------------------------------------------------------------------


def _audit_row(row: asyncpg.Record) -> AuditRow:
    return AuditRow.model_validate(dict(row))


async def audit_trail(conn: Conn, registration_number: str) -> list[AuditRow]:
    """Every audit event of an application, in order, with its chain hashes."""
    rows = await conn.fetch(
        """
        SELECT seq, event, at, actor, actor_role, step_id, attempt, from_state, to_state,
               details, prev_hash, hash
        FROM audit_events WHERE registration_number = $1 ORDER BY seq
        """,
        registration_number,
    )
    return [_audit_row(r) for r in rows]


# Events an applicant sees, and which detail of each is public.
_PUBLIC_EVENTS = frozenset(
    {
        "application_submitted",
        "application_corrected",
        "application_finished",
        "step_opened",
        "step_decided",
        "step_returned",
        "step_resumed",
        "step_cancelled",
        "clock_paused",
        "clock_resumed",
        "service_clock_paused",
        "service_clock_resumed",
        "fees_assessed",
        "deadline_extended",
        "step_deemed_approved",  # issue 12b: the applicant sees the basis
        "step_decided_on_deadline",
        "document_uploaded",  # 10A
    }
)


# Which details of each event the applicant reads (data; the pages put them in words).
# Notes: only the one on step_returned (the same note is on its step_decided: never twice).
_PUBLIC_DETAILS: dict[str, tuple[str, ...]] = {
    "application_submitted": ("service_time", "service_time_rule", "service_due_at"),
    "application_corrected": ("fields",),
    "step_decided": ("outcome",),
    "step_returned": ("note",),
    "clock_paused": ("reason",),
    "clock_resumed": ("paused_working_time_s",),
    "service_clock_paused": ("reason",),
    "service_clock_resumed": ("paused_from",),
    "fees_assessed": ("total",),
    "deadline_extended": ("extra", "due_after"),
    "step_resumed": ("note",),  # 10A: the applicant's own resubmission note
    "document_uploaded": ("slot", "version"),  # 10A
}


def _step_names(permit: PermitType | None) -> dict[str, str]:
    if permit is None:
        return {}
    return {s.id: s.name for s in permit.steps}


def public_history(events: Sequence[AuditRow], permit: PermitType | None) -> list[PublicEvent]:
    """The audit trail as the applicant may read it.

    Staff are shown by role, never by name; a staff note is shown only when the file was
    returned to the applicant (they must know what to correct). Internal mechanics (claims,
    skipped steps, branch forks) are left out.
    """
    names = _step_names(permit)
    shown: list[PublicEvent] = []
    for e in events:
        if e.event not in _PUBLIC_EVENTS:
            continue
        details: Mapping[str, Any] = e.details
        note: str | None = None
        reason: str | None = None
        if e.event in ("step_returned", "step_resumed"):  # 10A: the resubmission note too
            note = str(details.get("note") or "") or None
        if e.event in ("clock_paused", "service_clock_paused"):
            reason = details.get("reason")
        elif e.event == "application_corrected":
            fields = details.get("fields") or []
            reason = "corrected: " + ", ".join(str(f) for f in fields) if fields else None
        elif e.event == "deadline_extended":
            reason = f"new deadline {details.get('due_after')}"
        elif e.event in ("step_deemed_approved", "step_decided_on_deadline"):
            reason = details.get("legal_basis")
        shown.append(
            PublicEvent(
                seq=e.seq,
                at=e.at,
                event=e.event,
                by="applicant" if e.actor_role == "applicant" else e.actor_role,
                step_id=e.step_id,
                step_name=names.get(e.step_id) if e.step_id else None,
                outcome=details.get("outcome") if e.event == "step_decided" else None,
                note=note,
                reason=reason,
                details={k: details[k] for k in _PUBLIC_DETAILS.get(e.event, ()) if k in details},
            )
        )
    return shown


def tracked_steps(rows: Sequence[TaskRow | InboxRow], catalog: Catalog) -> list[TrackedStep]:
    agencies = {a.id: a for a in catalog.agencies.agencies}
    steps: list[TrackedStep] = []
    for r in rows:
        agency = agencies.get(r.agency)
        counter = next((c for c in agency.counters if c.id == r.counter), None) if agency else None
        steps.append(
            TrackedStep(
                step_id=r.step_id,
                name=r.name,
                agency=r.agency,
                agency_name=agency.name if agency else r.agency,
                counter=r.counter,
                counter_name=counter.name if counter else r.counter,
                state=r.state,
                clock=r.clock,
                opened_at=r.opened_at,
                due_at=r.due_at,
            )
        )
    return steps


async def tracking(conn: Conn, catalog: Catalog, registration_number: str) -> Tracking | None:
    """What the applicant sees: status, where the file is, due dates, fees, public history."""
    app = await application(conn, registration_number)
    if app is None:
        return None
    permit = catalog.permits.get(app.permit_type)
    current = [t for t in await tasks_of(conn, registration_number) if t.state in OPEN_STATES]
    return Tracking(
        registration_number=app.registration_number,
        permit_type=app.permit_type,
        permit_name=permit.name if permit else app.permit_type,
        status=app.status,
        submitted_at=app.submitted_at,
        service_due_at=app.service_due_at,
        waiting_for_applicant=app.waiting_for_applicant,
        finished_at=app.finished_at,
        current_steps=tracked_steps(current, catalog),
        fees=app.fees,
        history=public_history(await audit_trail(conn, registration_number), permit),
        fee_state=await fee_state(conn, registration_number, app.fees, permit, app.data),
    )


def task_step(permit: PermitType | None, step_id: str) -> TaskStep | None:
    """The definition of a task step in the catalog's version of the permit type."""
    if permit is None:
        return None
    step = next((s for s in permit.steps if s.id == step_id), None)
    return step if isinstance(step, TaskStep) else None
