"""A change being built: the working copy of a case's state plus the records it makes.

One operation of the case core opens a :class:`Draft`, mutates the copy (open clocks,
fees, route, pauses) and appends records; :meth:`Draft.done` freezes both into a new
``CaseState`` and the ``RecordBatch`` that the workflow writes in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loket.case import records
from loket.case.audit import entry_hash
from loket.case.bill import Bill
from loket.case.document_models import DocumentVerdict, DocumentVersion
from loket.case.messages import (
    Actor,
    AuditEntry,
    EscalationRecord,
    Notification,
    RecordBatch,
    TaskRecord,
    TaskState,
)
from loket.case.state import CaseState, StepClock
from loket.fees import FeeAssessment
from loket.route.stepper import RouteState

if TYPE_CHECKING:
    from loket.case.core import Case


@dataclass(frozen=True)
class Change:
    """The new state and what to record; ``batch`` None means nothing changed."""

    state: CaseState
    batch: RecordBatch | None


class Draft:
    def __init__(self, case: Case, state: CaseState, now: datetime) -> None:
        self.case = case
        self.before = state
        self.now = now
        self.route: RouteState = state.route
        self.clocks: dict[str, StepClock] = {c.step_id: c for c in state.clocks}
        self.service = state.service
        self.data = state.data
        self.fees: FeeAssessment | None = state.fees
        self.calendar_version = state.calendar_version
        self.finished_at = state.finished_at
        self.permit_number = state.permit_number
        self._seq = state.seq
        self._hashes = list(state.hashes)
        self._tasks: dict[tuple[str, int], TaskRecord] = {}
        self._audit: list[AuditEntry] = []
        self.escalations: list[EscalationRecord] = []
        self.notifications: list[Notification] = []
        self.bills: dict[str, Bill] = {b.billing_code: b for b in state.bills}
        # Documents (10A): the case's documents, this change's uploads and verdicts, and
        # the slots a return in this change asks the applicant to correct.
        self.documents = state.documents
        self.uploads: list[DocumentVersion] = []
        self.verdicts: list[DocumentVerdict] = []
        self.corrections: tuple[str, ...] = ()

    @property
    def seq(self) -> int:
        """The audit seq of the last entry written (0: none yet)."""
        return self._seq

    @property
    def last_seq(self) -> int:
        """The audit sequence number of the entry added last (the cause of a notice)."""
        return self._seq

    def snapshot(self) -> CaseState:
        return CaseState(
            registration_number=self.before.registration_number,
            route=self.route,
            clocks=tuple(self.clocks.values()),
            service=self.service,
            data=self.data,
            fees=self.fees,
            calendar_version=self.calendar_version,
            seq=self._seq,
            hashes=tuple(self._hashes),
            finished_at=self.finished_at,
            bills=tuple(self.bills.values()),
            documents=self.documents,
            permit_number=self.permit_number,
        )

    def audit(
        self,
        event: str,
        actor: Actor,
        *,
        clock: StepClock | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self._seq += 1
        entry = AuditEntry(
            seq=self._seq,
            event=event,
            at=self.now,
            actor=actor.username,
            actor_role=actor.role,
            step_id=clock.step_id if clock else None,
            attempt=clock.attempt if clock else None,
            from_state=from_state,
            to_state=to_state,
            details=details or {},
        )
        prev = self._hashes[-1] if self._hashes else ""
        self._hashes.append(entry_hash(prev, self.before.registration_number, entry))
        self._audit.append(entry)

    def task(
        self,
        clock: StepClock,
        task_state: TaskState,
        *,
        outcome: str | None = None,
        note: str | None = None,
        decided_by: str | None = None,
        closed: datetime | None = None,
    ) -> None:
        """The task row as it is now; a later row for the same attempt replaces it."""
        self._tasks[(clock.step_id, clock.attempt)] = records.task_record(
            self.case,
            self.case.calendar_version(self.calendar_version),
            clock,
            task_state,
            outcome=outcome,
            note=note,
            decided_by=decided_by,
            closed=closed,
        )

    def done(self) -> Change:
        state = self.snapshot()
        if not self._audit:
            return Change(state, None)
        batch = RecordBatch(
            application=records.application_record(self.case, state),
            tasks=tuple(self._tasks.values()),
            audit=tuple(self._audit),
            escalations=tuple(self.escalations),
            notifications=tuple(self.notifications),
            base_seq=self.before.seq,
            audit_hashes=tuple(self._hashes[self.before.seq :]),
            bills=tuple(b for b in state.bills if b not in self.before.bills),
            documents=tuple(self.uploads),
            verdicts=tuple(self.verdicts),
        )
        return Change(state, batch)
