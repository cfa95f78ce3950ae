"""The case core's notices to the applicant: which events make one, its key, its facts,
and never a personal fact of the form."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loket.calendar import calendar_for
from loket.calendar_data import covered_years, load_calendar
from loket.case.core import Case
from loket.case.draft import Change
from loket.case.messages import Actor, DecisionRequest, Notification, ResubmitRequest
from loket.case.notices import KINDS
from loket.refusal import Refused
from loket.route.form import normalize
from loket.route.loader import load_catalog
from tests.support import SIP_FORM

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
CATALOG = load_catalog(DEFINITIONS)
CALENDAR = calendar_for(load_calendar(DEFINITIONS, *covered_years(DEFINITIONS)))
SIP = CATALOG.permit("SIP")
START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
REG = "SIP-2026-000042"
APPLICANT = Actor(username=f"applicant:{REG}", role="applicant")
STAFF = Actor(
    username="s",
    role="staff",
    counters=("dpmptsp/front_office", "dinkes/health_licensing", "dpmptsp/issuance"),
)


def notices(change: Change) -> list[Notification]:
    assert change.batch is not None
    return [n for n in change.batch.notifications if n.recipient == "applicant"]


def test_received_returned_and_rejected_carry_their_facts_and_cause() -> None:
    case = Case(SIP, CALENDAR)
    started = case.start(REG, normalize(SIP, SIP_FORM), APPLICANT, START)
    [received] = notices(started)
    assert received.key == f"{REG}:application_received:1"
    assert received.payload == {"registration_number": REG, "permit_type": "SIP"}
    back = DecisionRequest(step_id="registration", outcome="return", actor=STAFF, note="STR?")
    returned = case.decide(started.state, back, START + timedelta(hours=1))
    [notice] = notices(returned)
    assert returned.batch is not None
    cause = next(e for e in returned.batch.audit if e.event == "step_returned")
    assert notice.key == f"{REG}:application_returned:{cause.seq}"
    assert notice.payload == {
        "registration_number": REG,
        "permit_type": "SIP",
        "step_id": "registration",
        "step_name": SIP.steps[0].name,
        "items": [],
        "note": "STR?",
    }
    resumed = case.resubmit(
        returned.state, ResubmitRequest(actor=APPLICANT), START + timedelta(hours=2)
    )
    assert notices(resumed) == []
    no = DecisionRequest(step_id="registration", outcome="reject", actor=STAFF, note="expired STR")
    rejected = case.decide(resumed.state, no, START + timedelta(hours=3))
    [final] = notices(rejected)
    assert final.kind == "application_rejected" and final.payload["note"] == "expired STR"
    assert rejected.batch is not None
    assert final.key.endswith(f":{rejected.batch.audit[-1].seq}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_any_walk_makes_unique_keys_and_no_personal_facts(rnd: random.Random) -> None:
    case = Case(SIP, CALENDAR)
    change = case.start(REG, normalize(SIP, SIP_FORM), APPLICANT, START)
    seen = notices(change)
    now = START
    for _ in range(12):
        state = change.state
        if state.finished_at is not None:
            break
        now += timedelta(hours=rnd.randint(0, 30))
        try:
            if any(c.pauses and c.pauses[-1][1] is None for c in state.clocks):
                change = case.resubmit(state, ResubmitRequest(actor=APPLICANT), now)
            else:
                step = rnd.choice(state.clocks).step_id
                outcome = rnd.choice(["approve", "approve", "return", "reject"])
                change = case.decide(
                    state, DecisionRequest(step_id=step, outcome=outcome, actor=STAFF), now
                )
        except Refused:
            continue
        if change.batch is not None:
            seen += notices(change)
    keys = [n.key for n in seen]
    assert len(keys) == len(set(keys))
    assert {n.kind for n in seen} <= set(KINDS)
    assert seen[0].kind == "application_received"
    text = json.dumps([n.payload for n in seen])
    for personal in SIP_FORM.values():
        assert str(personal) not in text
    if change.state.finished_at is not None:
        assert seen[-1].kind in ("application_approved", "application_rejected")
