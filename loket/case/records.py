"""What a case's state looks like to the read model and to callers: task rows, the
application row, the application's view. Pure functions of the state."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from loket.calendar import WorkCalendar
from loket.case.clock import waiting_for_applicant
from loket.case.messages import (
    ApplicationRecord,
    ApplicationStatus,
    ApplicationView,
    StepView,
    TaskRecord,
    TaskState,
)
from loket.case.state import CaseState, StepClock

if TYPE_CHECKING:
    from loket.case.core import Case


def clock_due(calendar: WorkCalendar, clock: StepClock) -> datetime | None:
    """The step's deadline with its pauses; None while it is paused."""
    return calendar.due_after_pauses(clock.opened_at, clock.base_due, clock.pauses)


def step_due(case: Case, state: CaseState, clock: StepClock) -> datetime | None:
    return clock_due(case.calendar(state), clock)


def service_due(case: Case, state: CaseState) -> datetime | None:
    service = state.service
    return case.calendar(state).due_after_pauses(
        service.started_at, service.base_due, service.pauses
    )


def status(state: CaseState) -> ApplicationStatus:
    return state.route.result or "in_progress"


def token_state(state: CaseState, step_id: str) -> TaskState:
    token = state.route.token(step_id)
    return token.status if token is not None else "open"


def task_record(
    case: Case,
    calendar: WorkCalendar,
    clock: StepClock,
    task_state: TaskState,
    *,
    outcome: str | None = None,
    note: str | None = None,
    decided_by: str | None = None,
    closed: datetime | None = None,
) -> TaskRecord:
    step = case.graph.task(clock.step_id)
    return TaskRecord(
        step_id=step.id,
        attempt=clock.attempt,
        name=step.name,
        agency=step.agency,
        counter=step.counter,
        state=task_state,
        opened_at=clock.opened_at,
        due_at=clock_due(calendar, clock),
        calendar_version=calendar.version,
        clock=step.clock,
        claimed_by=clock.claimed_by,
        outcome=outcome,
        note=note,
        decided_by=decided_by,
        closed_at=closed,
        escalation_level=clock.escalation_level,
        used_working_s=(
            int(calendar.used_working_time(clock.opened_at, closed, clock.pauses).total_seconds())
            if closed is not None
            else None
        ),
    )


def application_record(case: Case, state: CaseState) -> ApplicationRecord:
    agencies = sorted({case.graph.task(c.step_id).agency for c in state.clocks})
    return ApplicationRecord(
        registration_number=state.registration_number,
        permit_type=case.permit.id,
        route_version=case.permit.version,
        status=status(state),
        data=state.data,
        submitted_at=state.service.started_at,
        service_due_at=service_due(case, state),
        calendar_version=state.calendar_version,
        current_steps=tuple(c.step_id for c in state.clocks),
        current_agencies=tuple(agencies),
        waiting_for_applicant=waiting_for_applicant(state.route, case.graph),
        fees=state.fees,
        finished_at=state.finished_at,
    )


def view(case: Case, state: CaseState) -> ApplicationView:
    steps = []
    for clock in state.clocks:
        step = case.graph.task(clock.step_id)
        steps.append(
            StepView(
                step_id=step.id,
                name=step.name,
                agency=step.agency,
                counter=step.counter,
                attempt=clock.attempt,
                state=token_state(state, step.id),
                opened_at=clock.opened_at,
                due_at=step_due(case, state, clock),
                claimed_by=clock.claimed_by,
                escalation_level=clock.escalation_level,
                clock=step.clock,
                outcomes=tuple(step.outcomes),
            )
        )
    return ApplicationView(
        registration_number=state.registration_number,
        permit_type=case.permit.id,
        route_version=case.permit.version,
        status=status(state),
        submitted_at=state.service.started_at,
        service_due_at=service_due(case, state),
        calendar_version=state.calendar_version,
        open_steps=tuple(steps),
        fees=state.fees,
        waiting_for_applicant=waiting_for_applicant(state.route, case.graph),
        finished_at=state.finished_at,
        audit_seq=state.seq,
        audit_head=state.head_hash,
        bills=state.bills,
        permit_number=state.permit_number,
    )


def details(case: Case, state: CaseState) -> str:
    """The workflow's current details in the Temporal UI: where the file is, like an inbox
    line. No personal data (the UI is not for the public)."""
    if state.finished:
        return (
            f"**{status(state)}** at {state.finished_at.isoformat() if state.finished_at else ''}"
        )
    lines = []
    for clock in state.clocks:
        step = case.graph.task(clock.step_id)
        due = step_due(case, state, clock)
        when = due.isoformat() if due else "paused"
        lines.append(
            f"- {step.id} ({step.agency}/{step.counter}) {token_state(state, step.id)}, "
            f"due {when}, escalation {clock.escalation_level}"
        )
    return "**Open steps**\n" + "\n".join(lines)
