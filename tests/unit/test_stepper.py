"""The pure routing core (``loket.route.stepper``) on small hand-written routes and on PBG.

Each test drives the stepper the way the workflow does: ``start``, then ``decide`` /
``resubmit`` / ``cancel``, and looks at the open steps and the events of each transition.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loket.refusal import RefusalCode, Refused
from loket.route.loader import load_catalog
from loket.route.model import PermitType
from loket.route.stepper import RouteEvent, RouteState, Stepper, Transition
from loket.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"


def task(step_id: str, outcomes: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id.replace("_", " "),
        "agency": "dpmptsp",
        "counter": "back_office",
        "deadline": "2d",
        "outcomes": outcomes,
        **extra,
    }


def parallel(step_id: str, branches: list[str], then: str) -> dict[str, Any]:
    return {"id": step_id, "name": step_id, "parallel": branches, "then": then}


def make_permit(steps: list[dict[str, Any]], form: dict[str, Any] | None = None) -> PermitType:
    return PermitType.model_validate(
        {
            "id": "TEST",
            "name": "Test permit",
            "version": 1,
            "legal_basis": ["test"],
            "product": "a test letter",
            "complaints": "nowhere",
            "service_time": {"standard": "5d"},
            "form": form or {},
            "fees": {"free": True, "free_basis": "test"},
            "steps": steps,
        }
    )


def open_steps(state: RouteState) -> list[str]:
    return sorted(t.step_id for t in state.tokens if t.status == "open")


def kinds(transition: Transition) -> list[tuple[str, str | None]]:
    return [(e.kind, e.step_id) for e in transition.events]


def round_trips(state: RouteState) -> bool:
    return RouteState.model_validate_json(state.model_dump_json()) == state


# --- sequential ---------------------------------------------------------------------------


SEQUENTIAL = make_permit(
    [
        task("intake", {"approve": "review", "return": "applicant", "reject": "reject"}),
        task("review", {"approve": "sign", "rework": "intake", "reject": "reject"}),
        task("sign", {"approve": "finish"}),
    ]
)


def test_sequential_route_opens_one_step_after_the_other() -> None:
    stepper = Stepper(SEQUENTIAL)
    t = stepper.start({})
    assert kinds(t) == [("step_opened", "intake")]
    assert open_steps(t.state) == ["intake"]

    t = stepper.decide(t.state, {}, "intake", "approve")
    assert kinds(t) == [("step_decided", "intake"), ("step_opened", "review")]
    assert t.events[0] == RouteEvent(
        kind="step_decided", step_id="intake", attempt=1, outcome="approve", target="review"
    )
    t = stepper.decide(t.state, {}, "review", "approve")
    assert open_steps(t.state) == ["sign"]
    t = stepper.decide(t.state, {}, "sign", "approve")
    assert kinds(t)[-1] == ("permit_finished", None)
    assert t.state.result == "approved" and t.state.finished
    assert t.state.tokens == () and t.state.joins == ()
    assert round_trips(t.state)


def test_loop_back_to_an_earlier_step_increases_its_attempt() -> None:
    stepper = Stepper(SEQUENTIAL)
    state = stepper.start({}).state
    state = stepper.decide(state, {}, "intake", "approve").state
    t = stepper.decide(state, {}, "review", "rework")
    assert t.events[-1] == RouteEvent(kind="step_opened", step_id="intake", attempt=2)
    assert t.state.token("intake") is not None and t.state.token("intake").attempt == 2  # type: ignore[union-attr]
    state = stepper.decide(t.state, {}, "intake", "approve").state
    assert state.token("review").attempt == 2  # type: ignore[union-attr]
    assert state.attempt_of("review") == 2 and state.attempt_of("sign") == 0
    state = stepper.decide(state, {}, "review", "approve").state
    assert state.token("sign").attempt == 1  # type: ignore[union-attr]
    assert round_trips(state)


# --- return to the applicant --------------------------------------------------------------


def test_return_parks_the_step_and_resubmission_resumes_the_same_attempt() -> None:
    stepper = Stepper(SEQUENTIAL)
    state = stepper.start({}).state
    t = stepper.decide(state, {}, "intake", "return")
    assert kinds(t) == [("step_decided", "intake"), ("step_returned", "intake")]
    token = t.state.token("intake")
    assert token is not None and token.status == "returned" and token.attempt == 1
    assert open_steps(t.state) == []
    assert round_trips(t.state)

    with pytest.raises(Refused) as waiting:
        stepper.decide(t.state, {}, "intake", "approve")
    assert waiting.value.code is RefusalCode.WAITING_FOR_APPLICANT

    resumed = stepper.resubmit(t.state)
    assert resumed.events == (RouteEvent(kind="step_resumed", step_id="intake", attempt=1),)
    assert resumed.state.token("intake") == token.model_copy(update={"status": "open"})
    assert resumed.state.attempt_of("intake") == 1  # resumed, not re-entered
    state = stepper.decide(resumed.state, {}, "intake", "approve").state
    assert open_steps(state) == ["review"]


def test_resubmission_without_a_returned_step_is_refused() -> None:
    stepper = Stepper(SEQUENTIAL)
    state = stepper.start({}).state
    with pytest.raises(Refused) as refused:
        stepper.resubmit(state)
    assert refused.value.code is RefusalCode.NOTHING_TO_RESUBMIT


# --- parallel (AND-join) ------------------------------------------------------------------


PARALLEL = make_permit(
    [
        task("intake", {"approve": "reviews"}),
        parallel("reviews", ["legal", "technical", "environment"], then="decision"),
        task("legal", {"approve": "join", "return": "applicant", "reject": "reject"}),
        task("technical", {"approve": "technical_check", "reject": "reject"}),
        task("technical_check", {"approve": "join", "redo": "technical"}),
        task("environment", {"approve": "join", "reject": "reject"}),
        task("decision", {"approve": "finish", "reject": "reject"}),
    ]
)


def test_parallel_join_waits_for_every_branch() -> None:
    stepper = Stepper(PARALLEL)
    state = stepper.start({}).state
    t = stepper.decide(state, {}, "intake", "approve")
    assert kinds(t) == [
        ("step_decided", "intake"),
        ("branches_forked", "reviews"),
        ("step_opened", "legal"),
        ("step_opened", "technical"),
        ("step_opened", "environment"),
    ]
    state = t.state
    assert {t.step_id: t.scope for t in state.tokens} == {
        "legal": (("reviews", 0),),
        "technical": (("reviews", 1),),
        "environment": (("reviews", 2),),
    }

    state = stepper.decide(state, {}, "legal", "approve").state
    state = stepper.decide(state, {}, "environment", "approve").state
    assert open_steps(state) == ["technical"]
    assert state.joins[0].done == (0, 2)
    assert round_trips(state)

    t = stepper.decide(state, {}, "technical", "approve")
    assert "branches_joined" not in [k for k, _ in kinds(t)]  # one more step in branch 1
    t = stepper.decide(t.state, {}, "technical_check", "redo")
    assert t.state.token("technical").attempt == 2  # type: ignore[union-attr]
    state = stepper.decide(t.state, {}, "technical", "approve").state
    t = stepper.decide(state, {}, "technical_check", "approve")
    assert kinds(t)[-2:] == [("branches_joined", "reviews"), ("step_opened", "decision")]
    assert t.state.joins == () and open_steps(t.state) == ["decision"]
    assert stepper.decide(t.state, {}, "decision", "approve").state.result == "approved"


def test_a_returned_branch_holds_the_join_until_resubmission() -> None:
    stepper = Stepper(PARALLEL)
    state = stepper.decide(stepper.start({}).state, {}, "intake", "approve").state
    state = stepper.decide(state, {}, "legal", "return").state
    state = stepper.decide(state, {}, "environment", "approve").state
    state = stepper.decide(state, {}, "technical", "approve").state
    state = stepper.decide(state, {}, "technical_check", "approve").state
    assert open_steps(state) == [] and len(state.joins) == 1
    state = stepper.resubmit(state).state
    t = stepper.decide(state, {}, "legal", "approve")
    assert kinds(t)[-1] == ("step_opened", "decision")


def test_reject_in_a_branch_cancels_the_other_open_branches() -> None:
    stepper = Stepper(PARALLEL)
    state = stepper.decide(stepper.start({}).state, {}, "intake", "approve").state
    state = stepper.decide(state, {}, "legal", "return").state  # parked, still cancelled
    t = stepper.decide(state, {}, "environment", "reject")
    assert kinds(t)[0] == ("step_decided", "environment")
    assert sorted(kinds(t)[1:3]) == [("step_cancelled", "legal"), ("step_cancelled", "technical")]
    assert kinds(t)[3:] == [("permit_finished", None)]
    assert t.events[-1].result == "rejected"
    assert t.state.result == "rejected" and t.state.tokens == () and t.state.joins == ()
    assert round_trips(t.state)


# --- conditional steps --------------------------------------------------------------------


CONDITIONAL = make_permit(
    [
        task("intake", {"approve": "reviews"}),
        parallel("reviews", ["technical", "environment"], then="issue"),
        task("technical", {"approve": "join"}),
        task(
            "environment",
            {"approve": "join", "reject": "reject"},
            when="building_area_m2 > 500.0",
        ),
        task("issue", {"approve": "finish"}),
    ],
    form={"building_area_m2": {"type": "number", "label": "area"}},
)


@pytest.mark.parametrize(
    ("area", "reviews"), [(500.0, ["technical"]), (500.5, ["environment", "technical"])]
)
def test_environment_review_only_for_large_buildings(area: float, reviews: list[str]) -> None:
    stepper = Stepper(CONDITIONAL)
    data = {"building_area_m2": area}
    t = stepper.decide(stepper.start(data).state, data, "intake", "approve")
    assert open_steps(t.state) == reviews
    skipped = [e.step_id for e in t.events if e.kind == "step_skipped"]
    assert skipped == ([] if "environment" in reviews else ["environment"])
    state = stepper.decide(t.state, data, "technical", "approve").state
    if "environment" in reviews:
        assert open_steps(state) == ["environment"]
        state = stepper.decide(state, data, "environment", "approve").state
    assert open_steps(state) == ["issue"]


def test_all_branches_skipped_joins_at_once() -> None:
    permit = make_permit(
        [
            task("intake", {"approve": "checks"}),
            parallel("checks", ["a", "b"], then="issue"),
            task("a", {"approve": "join"}, when="flag"),
            task("b", {"approve": "join"}, when="flag"),
            task("issue", {"approve": "finish"}),
        ],
        form={"flag": {"type": "boolean", "label": "flag"}},
    )
    stepper = Stepper(permit)
    data = {"flag": False}
    t = stepper.decide(stepper.start(data).state, data, "intake", "approve")
    assert kinds(t)[1:] == [
        ("branches_forked", "checks"),
        ("step_skipped", "a"),
        ("step_skipped", "b"),
        ("branches_joined", "checks"),
        ("step_opened", "issue"),
    ]
    assert t.state.joins == ()


# --- refusals -----------------------------------------------------------------------------


def _refusal(operation: Callable[[], object]) -> tuple[RefusalCode, dict[str, object]]:
    with pytest.raises(Refused) as refused:
        operation()
    return refused.value.code, dict(refused.value.params)


def test_refusals_carry_codes_and_params() -> None:
    stepper = Stepper(PARALLEL)
    state = stepper.start({}).state
    assert _refusal(lambda: stepper.decide(state, {}, "legal", "approve")) == (
        RefusalCode.STEP_NOT_OPEN,
        {"step_id": "legal", "open_steps": ("intake",)},
    )
    assert _refusal(lambda: stepper.decide(state, {}, "nope", "approve")) == (
        RefusalCode.UNKNOWN_STEP,
        {"step_id": "nope", "permit": "TEST@v1"},
    )
    # a parallel step is no task step
    assert _refusal(lambda: stepper.decide(state, {}, "reviews", "approve"))[0] is (
        RefusalCode.UNKNOWN_STEP
    )
    assert _refusal(lambda: stepper.decide(state, {}, "intake", "return")) == (
        RefusalCode.UNKNOWN_OUTCOME,
        {"step_id": "intake", "outcome": "return", "choices": ("approve",)},
    )

    state = stepper.decide(state, {}, "intake", "approve").state
    assert _refusal(lambda: stepper.decide(state, {}, "intake", "approve"))[0] is (
        RefusalCode.ALREADY_DECIDED
    )
    state = stepper.decide(state, {}, "legal", "return").state
    assert _refusal(lambda: stepper.decide(state, {}, "legal", "approve")) == (
        RefusalCode.WAITING_FOR_APPLICANT,
        {"step_id": "legal"},
    )

    closed = stepper.decide(state, {}, "technical", "reject").state
    assert _refusal(lambda: stepper.decide(closed, {}, "environment", "approve")) == (
        RefusalCode.CLOSED,
        {"result": "rejected"},
    )
    assert _refusal(lambda: stepper.resubmit(closed))[0] is RefusalCode.CLOSED
    assert _refusal(lambda: stepper.cancel(closed))[0] is RefusalCode.CLOSED
    # A refusal never changes anything: the state is a frozen value.
    assert closed.result == "rejected"


def test_cancel_closes_the_application_and_every_open_step() -> None:
    stepper = Stepper(PARALLEL)
    state = stepper.decide(stepper.start({}).state, {}, "intake", "approve").state
    t = stepper.cancel(state)
    assert [e.kind for e in t.events].count("step_cancelled") == 3
    assert t.state.result == "cancelled" and t.state.tokens == ()


# --- PBG end to end -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pbg() -> Stepper:
    return Stepper(load_catalog(Path(DEFINITIONS)).permit("PBG"))


def _pbg_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "applicant_name": "Siti",
        "applicant_nik": "3316000000000001",
        "site_address": "Jl. Pemuda 1, Blora",
        "building_use": "usaha",
        "building_area_m2": 750.0,
        "floors": 3,
        "is_mbr": False,
        "fence_length_m": 0.0,
    }
    data.update(overrides)
    return data


def test_pbg_normal_applicant_end_to_end(pbg: Stepper) -> None:
    data = _pbg_data()
    t = pbg.start(data)
    assert open_steps(t.state) == ["registration"]
    state = pbg.decide(t.state, data, "registration", "approve").state
    # Corrections at the completeness check: the same attempt resumes.
    state = pbg.decide(state, data, "completeness", "return").state
    state = pbg.resubmit(state).state
    assert state.token("completeness").attempt == 1  # type: ignore[union-attr]
    t = pbg.decide(state, data, "completeness", "approve")
    assert open_steps(t.state) == ["environmental_review", "tpa_review"]
    assert ("step_skipped", "prototype_review") in kinds(t)
    state = pbg.decide(t.state, data, "environmental_review", "approve").state
    assert open_steps(state) == ["tpa_review"]
    state = pbg.decide(state, data, "tpa_review", "approve").state
    assert open_steps(state) == ["assessment"]
    assert pbg.graph.task("assessment").assesses_fees
    state = pbg.decide(state, data, "assessment", "approve").state
    assert open_steps(state) == ["payment"]
    state = pbg.decide(state, data, "payment", "approve").state
    assert open_steps(state) == ["issuance"]
    t = pbg.decide(state, data, "issuance", "approve")
    assert t.state.result == "approved"
    assert round_trips(t.state)


def test_pbg_mbr_applicant_skips_the_retribution(pbg: Stepper) -> None:
    data = _pbg_data(is_mbr=True, building_use="hunian", building_area_m2=36.0, floors=1)
    state = pbg.start(data).state
    state = pbg.decide(state, data, "registration", "approve").state
    t = pbg.decide(state, data, "completeness", "approve")
    assert open_steps(t.state) == ["prototype_review"]
    skipped = {e.step_id for e in t.events if e.kind == "step_skipped"}
    assert skipped == {"tpa_review", "environmental_review"}
    t = pbg.decide(t.state, data, "prototype_review", "approve")
    skipped = [e.step_id for e in t.events if e.kind == "step_skipped"]
    assert skipped == ["assessment", "payment"]
    assert open_steps(t.state) == ["issuance"]
    assert pbg.decide(t.state, data, "issuance", "approve").state.result == "approved"


def test_pbg_unpaid_bill_rejects(pbg: Stepper) -> None:
    data = _pbg_data(building_area_m2=120.0)
    state = pbg.start(data).state
    for step in ("registration", "completeness", "tpa_review", "assessment"):
        state = pbg.decide(state, data, step, "approve").state
    t = pbg.decide(state, data, "payment", "unpaid")
    assert t.state.result == "rejected"
