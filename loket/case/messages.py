"""Payloads of a case: the workflow's input, Updates, query view and record batches.

All pydantic, carried by ``pydantic_data_converter``. Nothing here does I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loket.calendar import CalendarSnapshot
from loket.case.bill import Bill
from loket.case.document_models import DocumentVerdict, DocumentVersion, VerdictInput
from loket.case.state import CaseState
from loket.escalation import EscalationSpread
from loket.fees import FeeAssessment
from loket.route.form import FormValue
from loket.route.model import PermitType

Role = Literal["applicant", "staff", "supervisor", "admin", "inspector", "system"]
TaskState = Literal["open", "returned", "done", "cancelled"]
ApplicationStatus = Literal["in_progress", "approved", "rejected", "cancelled"]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(_Msg):
    """Who acts. Staff carry the counters they serve as ``agency/counter`` keys."""

    username: str = Field(min_length=1, max_length=100)
    role: Role
    agency: str | None = None
    counters: tuple[str, ...] = ()

    def serves(self, agency: str, counter: str) -> bool:
        if self.role == "supervisor" and self.agency == agency:
            return True
        return self.role in ("staff", "supervisor") and f"{agency}/{counter}" in self.counters


SYSTEM = Actor(username="loket", role="system")


class PermitInput(_Msg):
    """Everything an application needs, pinned at start: route version and calendar."""

    registration_number: str
    permit: PermitType
    calendar: CalendarSnapshot
    data: dict[str, FormValue]
    applicant: Actor
    search_attributes: bool = True
    # The window the deadline loop's wake-ups are spread over, by file
    # (loket.case.escalation.spread). 0, the wake-up at the rule's instant, is every input
    # from before the spread existed: their histories replay unchanged.
    escalation_spread_s: EscalationSpread = 0
    # Carried by continue-as-new: the case as it stood (its data, clocks, audit chain).
    state: CaseState | None = None


class DecisionRequest(_Msg):
    step_id: str
    outcome: str
    note: str = Field(default="", max_length=4000)
    actor: Actor
    # Billing: the SSRD's number when a teller approves a billed payment step by hand.
    receipt_number: str | None = Field(default=None, min_length=1, max_length=64)
    # Documents (10A): the verdict on each item checked, and on a return the slots to correct.
    verdicts: tuple[VerdictInput, ...] = Field(default=(), max_length=50)
    corrections: tuple[str, ...] = Field(default=(), max_length=50)


class ClaimRequest(_Msg):
    step_id: str
    actor: Actor


class ReassignRequest(_Msg):
    """Supervisor: give an open task to another member of staff (or back to the counter).

    ``to`` carries the new holder's counters, as the API read them, so the workflow can
    check that they serve the step's counter; ``None`` releases the claim.
    """

    step_id: str
    to: Actor | None
    reason: str = Field(default="", max_length=4000)
    actor: Actor


class ResubmitRequest(_Msg):
    note: str = Field(default="", max_length=4000)
    actor: Actor
    data: dict[str, Any] | None = Field(default=None, description="corrected form, if changed")


class CancelRequest(_Msg):
    reason: str = Field(min_length=3, max_length=4000)
    actor: Actor


class ExtendRequest(_Msg):
    step_id: str
    extra: str = Field(description="working time to add, e.g. '2d' or '4h'")
    reason: str = Field(min_length=3, max_length=4000)
    actor: Actor


class RecomputeRequest(_Msg):
    """Administrator: recompute open deadlines with a new calendar version (audited)."""

    calendar: CalendarSnapshot
    reason: str = Field(min_length=3, max_length=4000)
    actor: Actor


# --- what the workflow shows -------------------------------------------------------------


class StepView(_Msg):
    step_id: str
    name: str
    agency: str
    counter: str
    attempt: int
    state: TaskState
    opened_at: datetime
    due_at: datetime | None = Field(description="None while the clock is paused")
    claimed_by: str | None = None
    escalation_level: int = 0
    clock: Literal["running", "paused"] = "running"
    outcomes: tuple[str, ...] = ()


class ApplicationView(_Msg):
    registration_number: str
    permit_type: str
    route_version: int
    status: ApplicationStatus
    submitted_at: datetime
    service_due_at: datetime | None
    calendar_version: str
    open_steps: tuple[StepView, ...]
    fees: FeeAssessment | None = None
    waiting_for_applicant: bool = False
    finished_at: datetime | None = None
    audit_seq: int = 0
    audit_head: str = ""
    bills: tuple[Bill, ...] = ()
    permit_number: str | None = None  # issued permit (issue 10 §2)


# --- activity batches --------------------------------------------------------------------


class AuditEntry(_Msg):
    """One audit event; names read SUBJECT_PAST_VERB (step_opened, task_claimed...)."""

    seq: int
    event: str
    at: datetime
    actor: str
    actor_role: Role
    step_id: str | None = None
    attempt: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class TaskRecord(_Msg):
    step_id: str
    attempt: int
    name: str
    agency: str
    counter: str
    state: TaskState
    opened_at: datetime
    due_at: datetime | None
    calendar_version: str
    clock: Literal["running", "paused"]
    claimed_by: str | None = None
    outcome: str | None = None
    note: str | None = None
    decided_by: str | None = None
    closed_at: datetime | None = None
    escalation_level: int = 0
    used_working_s: int | None = Field(
        default=None, description="working seconds used, pauses excluded; set when done"
    )


class ApplicationRecord(_Msg):
    registration_number: str
    permit_type: str
    route_version: int
    status: ApplicationStatus
    data: dict[str, FormValue]
    submitted_at: datetime
    service_due_at: datetime | None
    calendar_version: str
    current_steps: tuple[str, ...]
    current_agencies: tuple[str, ...]
    waiting_for_applicant: bool
    fees: FeeAssessment | None = None
    finished_at: datetime | None = None


class EscalationRecord(_Msg):
    step_id: str
    attempt: int
    rule_index: int
    action: Literal["remind", "notify", "escalate"]
    recipient: str
    level: int
    due_at: datetime | None
    fired_at: datetime


class Notification(_Msg):
    """An outbox entry; ``key`` is unique and sent as the webhook's Idempotency-Key."""

    key: str
    registration_number: str
    kind: str
    recipient: str
    created_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)


class RecordBatch(_Msg):
    """One state change, written in one database transaction, idempotently.

    ``base_seq`` is the audit sequence number the change was built on; ``audit_hashes``
    are the chain hashes the case computed for its entries. The store computes its own from
    its head; the chain check (loket.store.chain) compares the two."""

    application: ApplicationRecord
    tasks: tuple[TaskRecord, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    escalations: tuple[EscalationRecord, ...] = ()
    notifications: tuple[Notification, ...] = ()
    base_seq: int | None = None
    audit_hashes: tuple[str, ...] = ()
    bills: tuple[Bill, ...] = ()  # bills issued or changed by this change (loket.store.billing)
    documents: tuple[DocumentVersion, ...] = ()  # 10A: uploads, written to document_versions
    verdicts: tuple[DocumentVerdict, ...] = ()  # 10A: written to document_verdicts
    # Issue 13: the workers' outbox dispatcher delivers this batch's notifications (the
    # workflow starts no delivery activity); False for workflows before that patch.
    dispatch: bool = False


__all__ = [
    "SYSTEM",
    "Actor",
    "ApplicationRecord",
    "ApplicationStatus",
    "ApplicationView",
    "AuditEntry",
    "CancelRequest",
    "ClaimRequest",
    "DecisionRequest",
    "EscalationRecord",
    "ExtendRequest",
    "Notification",
    "PermitInput",
    "ReassignRequest",
    "RecomputeRequest",
    "RecordBatch",
    "ResubmitRequest",
    "Role",
    "StepView",
    "TaskRecord",
    "TaskState",
]
