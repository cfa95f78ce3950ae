"""Outcomes the applicant chooses: a complainant reopens a complaint before it closes.

A step lists them in ``applicant_outcomes``; the applicant (signed in by tracking number and
access code at the edge) may take one of those while the step is open, and the route moves
on exactly as for a staff decision of that outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from loket.case import checks
from loket.case.draft import Change, Draft
from loket.case.messages import Actor
from loket.case.state import CaseState
from loket.refusal import RefusalCode, Refused

if TYPE_CHECKING:
    from loket.case.core import Case

EVENT = "applicant_chose_outcome"


class ApplicantChoiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    step_id: str
    outcome: str
    note: str = Field(default="", max_length=4000)
    actor: Actor


def check_choose(case: Case, state: CaseState, request: ApplicantChoiceRequest) -> None:
    if request.actor.role != "applicant":
        raise Refused(RefusalCode.WRONG_ROLE, role=request.actor.role)
    step = case.stepper.check_decision(state.route, request.step_id, request.outcome)
    if request.outcome not in step.applicant_outcomes:
        raise Refused(
            RefusalCode.NOT_APPLICANT_OUTCOME,
            step_id=request.step_id,
            outcome=request.outcome,
            choices=tuple(step.applicant_outcomes),
        )
    checks.text("note", request.note)


def choose(case: Case, state: CaseState, request: ApplicantChoiceRequest, now: datetime) -> Change:
    check_choose(case, state, request)
    transition = case.stepper.decide(state.route, state.data, request.step_id, request.outcome)
    draft = Draft(case, state, now)
    draft.audit(
        EVENT,
        request.actor,
        clock=state.clock(request.step_id),
        details={"outcome": request.outcome},
    )
    case._apply(draft, transition, request.actor, request.note)
    return draft.done()
