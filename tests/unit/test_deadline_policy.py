"""The deadline policy of the pure case core (loket/case/deadline_policy.py), without
Temporal: deemed approval is taken exactly when a step's deadline has passed and the file
does not wait on the applicant (here: a parallel branch returned for corrections); the
applicant's own outcomes are refused to anyone else and for outcomes not listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loket.analysis.report import analyze
from loket.analysis.text import format_analysis
from loket.calendar import calendar_for
from loket.calendar_data import covered_years, load_calendar
from loket.case import applicant_choice, deadline_policy, escalation, records
from loket.case.core import Case
from loket.case.messages import Actor, DecisionRequest
from loket.case.state import CaseState
from loket.refusal import RefusalCode, Refused
from loket.route.loader import load_catalog
from loket.route.model import PermitType
from loket.route.validate import check_permit

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
CATALOG = load_catalog(DEFINITIONS)
CALENDAR = calendar_for(load_calendar(DEFINITIONS, *covered_years(DEFINITIONS)))
START = datetime(2027, 2, 1, 3, 0, tzinfo=UTC)  # Monday 1 Feb 2027 10:00 WIB
TPA = Actor(username="agus", role="staff", counters=("dpupr/tpa",))
DLH = Actor(username="dewi", role="staff", counters=("dlh/environmental_review",))
APPLICANT = Actor(username="applicant:x", role="applicant")

PARALLEL = PermitType.model_validate(
    {
        "id": "PAR",
        "name": "Parallel test",
        "version": 1,
        "legal_basis": ["test"],
        "product": "a letter",
        "complaints": "desk",
        "service_time": {"standard": "10d"},
        "form": {},
        "fees": {"free": True, "free_basis": "test"},
        "steps": [
            {"id": "both", "name": "Both", "parallel": ["tech", "env"], "then": "finish"},
            {
                "id": "tech",
                "name": "Technical",
                "agency": "dpupr",
                "counter": "tpa",
                "deadline": "3d",
                "outcomes": {"approve": "join"},
                "deemed_approval": {"legal_basis": "UU 30/2014 ps. 53"},
            },
            {
                "id": "env",
                "name": "Environment",
                "agency": "dlh",
                "counter": "environmental_review",
                "deadline": "10d",
                "outcomes": {"approve": "join", "return": "applicant"},
            },
        ],
    }
)


def test_the_test_route_is_valid() -> None:
    assert check_permit(PARALLEL, CATALOG.agencies) == []


def deemed(state: CaseState) -> bool:
    return state.route.token("tech") is None and state.clock("tech") is None


@settings(max_examples=40, deadline=None)
@given(
    returned_after_h=st.one_of(st.none(), st.integers(0, 30)),
    check_after_h=st.integers(0, 60),
)
def test_deemed_approval_fires_at_the_deadline_of_a_complete_file_only(
    returned_after_h: int | None, check_after_h: int
) -> None:
    case = Case(PARALLEL, CALENDAR)
    state = case.start("PAR-2027-000001", {}, APPLICANT, START).state
    tech = state.clock("tech")
    assert tech is not None
    due = records.clock_due(CALENDAR, tech)
    assert due is not None
    returned = False
    if returned_after_h is not None:
        at = CALENDAR.add_working_time(START, timedelta(hours=returned_after_h))
        if at < due:
            request = DecisionRequest(step_id="env", outcome="return", actor=DLH)
            state = case.decide(state, request, at).state
            returned = True
    now = CALENDAR.add_working_time(START, timedelta(hours=check_after_h))
    after = escalation.escalate_due(case, state, now).state
    assert deemed(after) == (now >= due and not returned)
    if deemed(after):
        assert after.route.token("env") is not None  # the other branch goes on
        # Once taken, nothing is due any more for that step.
        assert deadline_policy.next_due(case, after) is None


def test_next_due_names_the_policy_and_its_deadline() -> None:
    case = Case(PARALLEL, CALENDAR)
    state = case.start("PAR-2027-000002", {}, APPLICANT, START).state
    tech = state.clock("tech")
    assert tech is not None
    assert escalation.next_due(case, state) == (
        "tech",
        escalation.DEADLINE_POLICY,
        records.clock_due(CALENDAR, tech),
    )


def test_only_the_applicant_chooses_and_only_listed_outcomes() -> None:
    route = CATALOG.complaints["ADU"]
    case = Case(route, CALENDAR)
    desk = Actor(username="rina", role="staff", counters=("dpmptsp/complaints",))
    dlh = Actor(username="dewi", role="staff", counters=("dlh/environmental_review",))
    state = case.start("ADU-2027-000001", {"subject": "x", "description": "y"}, APPLICANT, START)
    s = state.state
    s = case.decide(
        s, DecisionRequest(step_id="forward", outcome="to_dlh", actor=desk), START
    ).state
    s = case.decide(
        s, DecisionRequest(step_id="answer_dlh", outcome="answer", actor=dlh), START
    ).state
    choose = applicant_choice.ApplicantChoiceRequest
    with pytest.raises(Refused) as staff:
        applicant_choice.check_choose(
            case, s, choose(step_id="closing", outcome="reopen", actor=desk)
        )
    assert staff.value.code is RefusalCode.WRONG_ROLE
    with pytest.raises(Refused) as close:
        applicant_choice.check_choose(
            case, s, choose(step_id="closing", outcome="close", actor=APPLICANT)
        )
    assert close.value.code is RefusalCode.NOT_APPLICANT_OUTCOME
    assert close.value.params["choices"] == ("reopen",)
    reopened = applicant_choice.choose(
        case, s, choose(step_id="closing", outcome="reopen", actor=APPLICANT), START
    ).state
    assert [t.step_id for t in reopened.route.tokens] == ["forward"]
    assert reopened.route.attempt_of("forward") == 2


def test_the_route_analysis_reports_which_steps_carry_a_policy() -> None:
    analysis = analyze(PARALLEL, CATALOG.agencies)
    assert [(p.step_id, p.kind, p.outcome, p.target) for p in analysis.policies] == [
        ("tech", "deemed_approval", "approve", "join")
    ]
    assert "  tech: deemed approved (fiktif positif) after 3d" in format_analysis(analysis)
    complaint = analyze(CATALOG.complaints["ADU"], CATALOG.agencies)
    assert [(p.step_id, p.kind, p.outcome) for p in complaint.policies] == [
        ("closing", "on_deadline", "close")
    ]
    # Off by default: the real permit types carry none.
    for permit in CATALOG.permits.values():
        assert analyze(permit, CATALOG.agencies).policies == []


def test_the_timer_says_which_it_waits_for() -> None:
    at = START
    assert escalation.timer_summary(("tech", escalation.DEADLINE_POLICY, at)) == (
        "deadline policy tech"
    )
    assert escalation.timer_summary(("tech", 2, at)) == "escalate tech (rule 2)"  # as before


def test_a_policy_is_taken_at_its_deadline_whatever_the_spread() -> None:
    """The deployment's spread (issue 13) delays escalation rules only: a deemed approval is
    dated by law at the deadline."""
    case = Case(PARALLEL, CALENDAR)
    state = case.start("PAR-2027-000003", {}, APPLICANT, START).state
    assert escalation.next_due(case, state, 3600) == escalation.next_due(case, state)
