"""Everything a case knows, as one serializable value.

``RouteState`` (the routing core's tokens) is the only record of which steps are open or
returned; a :class:`StepClock` holds only what time does to an open step. A state is
frozen: every operation of :mod:`loket.case.core` returns a new one, so a change that the
store refuses is undone by keeping the old value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from loket.case.bill import Bill
from loket.case.document_models import DocumentsState
from loket.fees import FeeAssessment
from loket.route.stepper import RouteState

Pause = tuple[datetime, datetime | None]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepClock(_Frozen):
    """An open step's timing: opened, deadline before pauses, pauses, extensions, claim."""

    step_id: str
    attempt: int
    opened_at: datetime
    base_due: datetime  # opened_at + the step's deadline + every extension, in working time
    extensions: tuple[str, ...] = ()  # WorkDuration texts; a recompute re-applies them
    pauses: tuple[Pause, ...] = ()
    claimed_by: str | None = None
    escalation_level: int = 0
    fired: tuple[int, ...] = ()  # escalation rules fired this attempt


class ServiceClock(_Frozen):
    """The permit's own service time (28 working days for PBG, 10 for MBR...)."""

    started_at: datetime
    base_due: datetime
    rule: str
    pauses: tuple[Pause, ...] = ()

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None


class CaseState(_Frozen):
    registration_number: str
    route: RouteState
    clocks: tuple[StepClock, ...] = ()
    service: ServiceClock
    data: dict[str, Any]
    fees: FeeAssessment | None = None
    calendar_version: str
    seq: int = 0  # audit events written so far
    hashes: tuple[str, ...] = ()  # the audit chain as this case wrote it, hashes[seq - 1]
    finished_at: datetime | None = None
    bills: tuple[Bill, ...] = ()  # billing (issue 11): every bill issued, by index
    documents: DocumentsState = DocumentsState()
    permit_number: str | None = None  # issued permit (issue 10 §2)

    @property
    def finished(self) -> bool:
        return self.route.finished

    @property
    def head_hash(self) -> str:
        return self.hashes[-1] if self.hashes else ""

    def clock(self, step_id: str) -> StepClock | None:
        return next((c for c in self.clocks if c.step_id == step_id), None)
