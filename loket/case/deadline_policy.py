"""Deadline policies: the outcome a step takes on its own when it passes its deadline.

One rule for two uses. *Deemed approval* (fiktif positif, UU 30/2014 ps. 53 as amended by
the Job Creation law): a complete application nobody decided within the step's time is
approved, audited as ``step_deemed_approved`` with its legal basis; the agency's supervisor
is told (a staff notification, like an escalation) and the store opens a post-issue
supervision task at the agency from that audit entry. ``on_deadline``: a named outcome
(a complaint closes 10 working days after its answer unless the complainant reopens it),
audited as ``step_decided_on_deadline``.

The deadline is the step's working-time due instant with its pauses (holidays and office
hours counted by the calendar). Nothing is due while the file waits on the applicant (a
step returned for corrections, a payment): an incomplete file is never deemed approved.
Used from the escalation timer path (:mod:`loket.case.escalation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from loket.calendar import CalendarRangeError
from loket.case import records
from loket.case.clock import waiting_for_applicant
from loket.case.draft import Draft
from loket.case.messages import SYSTEM, Notification
from loket.case.state import CaseState, StepClock
from loket.route.model import TaskStep

DEEMED_EVENT = "step_deemed_approved"
AUTOMATIC_EVENT = "step_decided_on_deadline"
DEEMED_NOTIFICATION = "deemed_approval"

if TYPE_CHECKING:
    from loket.case.core import Case


@dataclass(frozen=True)
class Policy:
    outcome: str
    legal_basis: str
    deemed: bool  # deemed approval: supervisor told, supervision task opened


def policy_of(step: TaskStep) -> Policy | None:
    if step.deemed_approval is not None:
        return Policy("approve", step.deemed_approval.legal_basis, True)
    if step.on_deadline is not None:
        return Policy(step.on_deadline.outcome, step.on_deadline.legal_basis, False)
    return None


def candidates(case: Case, state: CaseState) -> list[tuple[StepClock, Policy, datetime]]:
    """Every open step with a policy, and the instant its deadline passes."""
    if state.finished or waiting_for_applicant(state.route, case.graph):
        return []
    found = []
    calendar = case.calendar(state)
    for clock in state.clocks:
        step = case.graph.task(clock.step_id)
        policy = policy_of(step)
        token = state.route.token(clock.step_id)
        if policy is None or token is None or token.status != "open" or step.clock == "paused":
            continue
        try:
            due = records.clock_due(calendar, clock)
        except CalendarRangeError:
            continue  # like an escalation rule: not computable, never stops the case
        if due is not None:
            found.append((clock, policy, due))
    return found


def next_due(case: Case, state: CaseState) -> tuple[str, datetime] | None:
    found = candidates(case, state)
    if not found:
        return None
    clock, _, at = min(found, key=lambda c: c[2])
    return clock.step_id, at


def apply_due(case: Case, draft: Draft) -> None:
    """Take every policy due at ``draft.now``, earliest deadline first, into ``draft``."""
    for _ in range(len(draft.clocks)):
        due = [c for c in candidates(case, draft.snapshot()) if c[2] <= draft.now]
        if not due:
            return
        clock, policy, at = min(due, key=lambda c: c[2])
        step = case.graph.task(clock.step_id)
        details = {
            "outcome": policy.outcome,
            "legal_basis": policy.legal_basis,
            "due_at": at.isoformat(),
            "agency": step.agency,
            "counter": step.counter,
        }
        draft.audit(
            DEEMED_EVENT if policy.deemed else AUTOMATIC_EVENT, SYSTEM, clock=clock, details=details
        )
        if policy.deemed:
            _notify_supervisor(case, draft, clock, step, details)
        transition = case.stepper.decide(draft.route, draft.data, step.id, policy.outcome)
        # The same path as a staff decision: the route moves on as for that outcome.
        case._apply(draft, transition, SYSTEM, policy.legal_basis)


def _notify_supervisor(
    case: Case, draft: Draft, clock: StepClock, step: TaskStep, details: dict[str, str]
) -> None:
    reg = draft.before.registration_number
    draft.notifications.append(
        Notification(
            key=f"{reg}:{step.id}:{clock.attempt}:{DEEMED_NOTIFICATION}",
            registration_number=reg,
            kind=DEEMED_NOTIFICATION,
            recipient=f"supervisor:{step.agency}",
            created_at=draft.now,
            payload={
                **details,
                "registration_number": reg,
                "permit_type": case.permit.id,
                "step_id": step.id,
                "step_name": step.name,
                "attempt": clock.attempt,
            },
        )
    )
