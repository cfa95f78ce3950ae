"""The case core's refusals: who may act on which step, and values that fit the store.

Order matters for privacy: a member of staff who does not serve a step's counter is told
``not_your_counter`` (answered like "not there") before anything about the step's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loket.case.messages import Actor
from loket.case.state import CaseState, StepClock
from loket.refusal import RefusalCode, Refused
from loket.route.form import FormError, merge_corrections
from loket.route.model import PermitType, TaskStep
from loket.text import text_problem

if TYPE_CHECKING:
    from loket.case.core import Case


def text(field: str, value: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        raise Refused(RefusalCode.INVALID_TEXT, field=field)


def form_text(data: Mapping[str, Any]) -> None:
    for name, value in data.items():
        if isinstance(value, str):
            text(f"data.{name}", value)


def corrected_form(
    permit: PermitType, current: dict[str, Any], corrections: dict[str, Any]
) -> dict[str, Any]:
    """Corrections checked against the form of the pinned route version, not today's."""
    try:
        merged = dict(merge_corrections(permit, current, corrections))
    except FormError as exc:
        raise Refused(
            RefusalCode.INVALID_FORM, fields=tuple(e["field"] for e in exc.errors)
        ) from None
    form_text(merged)
    return merged


def _task_step(case: Case, step_id: str) -> TaskStep:
    step = case.graph.steps.get(step_id)
    if not isinstance(step, TaskStep):
        raise Refused(RefusalCode.UNKNOWN_STEP, step_id=step_id)
    return step


def _open_clock(state: CaseState, step_id: str) -> StepClock:
    if state.finished:
        raise Refused(RefusalCode.CLOSED, result=state.route.result)
    clock = state.clock(step_id)
    if clock is None:
        code = (
            RefusalCode.ALREADY_DECIDED
            if state.route.attempt_of(step_id)
            else RefusalCode.STEP_NOT_OPEN
        )
        raise Refused(code, step_id=step_id)
    return clock


def staff(case: Case, state: CaseState, step_id: str, actor: Actor) -> StepClock:
    """A member of staff (or their supervisor) acting on an open step of their counter."""
    step = _task_step(case, step_id)
    if not actor.serves(step.agency, step.counter):
        raise Refused(RefusalCode.NOT_YOUR_COUNTER, step_id=step_id)
    clock = _open_clock(state, step_id)
    if clock.claimed_by not in (None, actor.username):
        raise Refused(RefusalCode.CLAIMED_BY_OTHER, step_id=step_id, claimed_by=clock.claimed_by)
    return clock


def supervisor(case: Case, state: CaseState, step_id: str, actor: Actor) -> StepClock:
    """A supervisor of the step's agency (extensions, reassignment)."""
    step = _task_step(case, step_id)
    if actor.role != "supervisor":
        raise Refused(RefusalCode.WRONG_ROLE, role=actor.role)
    if actor.agency != step.agency:
        raise Refused(RefusalCode.NOT_YOUR_COUNTER, step_id=step_id)
    return _open_clock(state, step_id)


def admin(state: CaseState, actor: Actor) -> None:
    if actor.role != "admin":
        raise Refused(RefusalCode.WRONG_ROLE, role=actor.role)
    if state.finished:
        raise Refused(RefusalCode.CLOSED, result=state.route.result)
