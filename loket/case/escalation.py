"""Escalation of stalled steps: which rules are due, and what firing one records.

Each rule fires once per step attempt, at its working instant, across pauses; while a step
waits on the applicant nothing is due. A rule whose instant falls outside the calendar's
covered years is not due (it cannot be computed): it never stops the case.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from loket.calendar import CalendarRangeError
from loket.case import billing, deadline_policy, records
from loket.case.core import Case
from loket.case.draft import Change, Draft
from loket.case.messages import SYSTEM, EscalationRecord, Notification
from loket.case.state import CaseState, StepClock
from loket.escalation import rule_instant, rules_for

log = logging.getLogger(__name__)

_RECIPIENTS = {
    "assignee": "{claimed}",
    "counter": "counter:{agency}/{counter}",
    "supervisor": "supervisor:{agency}",
    "agency_head": "head:{agency}",
    "inspectorate": "inspectorate",
    "applicant": "applicant",
}


def candidates(case: Case, state: CaseState) -> list[tuple[StepClock, int, datetime]]:
    """Every unfired rule of every running step, with the instant it fires."""
    found = []
    calendar = case.calendar(state)
    for clock in state.clocks:
        token = state.route.token(clock.step_id)
        step = case.graph.task(clock.step_id)
        if token is None or token.status != "open":
            continue
        opened, base_due, pauses = clock.opened_at, clock.base_due, clock.pauses
        if step.clock == "paused":
            # Waiting on the applicant: nobody at the counter is late. A billed payment
            # step's ladder runs on its bill instead, from billing to the pay-by date.
            window = billing.escalation_window(state, clock)
            if window is None:
                continue
            (opened, base_due), pauses = window, ()
        for index, rule in enumerate(rules_for(case.permit, step)):
            if index in clock.fired:
                continue
            try:
                at = rule_instant(calendar, rule, opened, base_due, pauses)
            except CalendarRangeError:
                continue
            if at is not None:
                found.append((clock, index, at))
    return found


# The rule index the deadline loop is given for a step's deadline policy (deemed approval,
# an automatic outcome): not an escalation rule, the same timer.
DEADLINE_POLICY = -1


def next_due(case: Case, state: CaseState, spread_s: int = 0) -> tuple[str, int, datetime] | None:
    """What the deadline loop wakes for next: (step id, rule index, when), or None.

    A rule wakes it the file's :func:`spread` over ``spread_s`` after its instant; a
    deadline policy (step id, DEADLINE_POLICY, its deadline) at its deadline, never spread:
    the law dates a deemed approval there."""
    offset = spread(state.registration_number, spread_s)
    found = [(c.step_id, i, at + offset) for c, i, at in candidates(case, state)]
    found += [
        (c.step_id, DEADLINE_POLICY, at) for c, _, at in deadline_policy.candidates(case, state)
    ]
    if not found:
        return None
    return min(found, key=lambda c: c[2])


def spread(registration_number: str, window_s: int) -> timedelta:
    """How long after a rule's instant this file's deadline loop wakes: an offset in
    [0, window_s), fixed for the file and uniform across files.

    Issue 13 (the morning after Lebaran): every file received over a holiday counts from
    the same opening, so thousands of rule instants coincide, and fired at once they queue
    the staff's decisions behind them at the server for minutes. Spread by file, they fire
    over the window instead: never early, at most the window late; the record keeps the
    rule's own instant as ``scheduled_at``. The window is the deployment's
    (``PermitInput.escalation_spread_s``)."""
    if window_s <= 0:
        return timedelta(0)
    digest = hashlib.sha256(registration_number.encode()).digest()
    micros = int.from_bytes(digest[:8], "big") % (window_s * 1_000_000)
    return timedelta(microseconds=micros)


def timer_summary(due: tuple[str, int, datetime]) -> str:
    """What the Temporal UI shows on the deadline loop's timer."""
    step_id, index, _ = due
    if index == DEADLINE_POLICY:
        return f"deadline policy {step_id}"
    return f"escalate {step_id} (rule {index})"


def recipient(case: Case, clock: StepClock, to: str) -> str:
    step = case.graph.task(clock.step_id)
    counter = f"counter:{step.agency}/{step.counter}"
    if to == "assignee":
        return clock.claimed_by or counter
    return _RECIPIENTS[to].format(agency=step.agency, counter=step.counter)


def escalate_due(case: Case, state: CaseState, now: datetime) -> Change:
    """Fire every rule due at ``now`` (level up, escalation row, audit entry, outbox), then
    take every deadline policy due (:mod:`loket.case.deadline_policy`)."""
    draft = Draft(case, state, now)
    reg = state.registration_number
    for clock, index, at in sorted(candidates(case, state), key=lambda c: c[2]):
        if at > now:
            continue
        step = case.graph.task(clock.step_id)
        rule = rules_for(case.permit, step)[index]
        clock = draft.clocks[clock.step_id]
        clock = clock.model_copy(
            update={
                "fired": (*clock.fired, index),
                "escalation_level": clock.escalation_level + 1,
            }
        )
        draft.clocks[clock.step_id] = clock
        to = recipient(case, clock, rule.to)
        due = records.step_due(case, state, clock)
        draft.escalations.append(
            EscalationRecord(
                step_id=step.id,
                attempt=clock.attempt,
                rule_index=index,
                action=rule.action,
                recipient=to,
                level=clock.escalation_level,
                due_at=due,
                fired_at=now,
            )
        )
        details = {
            "rule": index,
            "action": rule.action,
            "to": rule.to,
            "recipient": to,
            "level": clock.escalation_level,
            "scheduled_at": at.isoformat(),
            "due_at": due.isoformat() if due else None,
        }
        draft.audit("step_escalated", SYSTEM, clock=clock, details=details)
        if rule.to == "applicant":  # an unpaid bill's reminder (loket.case.billing)
            draft.notifications.append(billing.payment_reminder(draft, clock))
            draft.task(clock, records.token_state(state, step.id))
            continue
        draft.notifications.append(
            Notification(
                key=f"{reg}:{step.id}:{clock.attempt}:{index}",
                registration_number=reg,
                kind=rule.action,
                recipient=to,
                created_at=now,
                payload={
                    **details,
                    "registration_number": reg,
                    "permit_type": case.permit.id,
                    "step_id": step.id,
                    "step_name": step.name,
                    "agency": step.agency,
                    "counter": step.counter,
                    "attempt": clock.attempt,
                },
            )
        )
        draft.task(clock, records.token_state(state, step.id))
    deadline_policy.apply_due(case, draft)
    return draft.done()
