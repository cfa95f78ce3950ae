"""Property tests of the routing core over GENERATED routes.

A strategy builds random well-formed routes: sequences of task steps and parallel blocks
(nested up to two levels), conditional steps, returns to the applicant, rejections and
backward loops inside a sequence (their exit is the forward ``approve`` outcome). Each
generated route must pass the validator. Random decisions then drive it; after a random
prefix the driver only chooses ``approve`` and resubmits corrections, and the route must end.

Checked after every operation:
- threads: the main line and every open branch of every pending join hold exactly one
  thing (a token or a nested pending join); finished branches and closed permits hold none
  (no token lost, none duplicated);
- a join fires only after each of its branches reached ``join`` (an oracle replays the
  events against the static scopes, independent of the stepper's join bookkeeping);
- attempts count openings; a returned step resumes the same attempt;
- the state round-trips through ``model_dump``/``model_validate`` (and JSON).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loket.refusal import RefusalCode, Refused
from loket.route.graph import Frame, Scope
from loket.route.model import AgencyCatalog, ParallelStep, PermitType, TaskStep
from loket.route.stepper import RouteState, Stepper, Transition
from loket.route.validate import check_permit

AGENCIES = AgencyCatalog.model_validate(
    {
        "agencies": [
            {
                "id": "opd",
                "name": "Test agency",
                "short": "OPD",
                "head_title": "Head",
                "counters": [{"id": "c1", "name": "one"}, {"id": "c2", "name": "two"}],
            }
        ]
    }
)

FORM = {
    "flag": {"type": "boolean", "label": "flag", "required": False},
    "area": {"type": "number", "label": "area", "minimum": 1, "maximum": 100000},
    "n": {"type": "integer", "label": "n", "minimum": 1, "maximum": 100},
}
CONDITIONS = ("flag", "!flag", "area > 500.0", "n >= 3", "flag || n == 1")

MAX_DEPTH = 2
RANDOM_OPS = 40


# --- generating routes --------------------------------------------------------------------


@dataclass
class TaskSpec:
    when: str | None
    can_return: bool
    can_reject: bool
    loop_back: int | None  # index of an earlier (or this) item of the same sequence
    counter: str


@dataclass
class ParallelSpec:
    branches: list[list[Any]]


@st.composite
def task_specs(draw: st.DrawFn, position: int) -> TaskSpec:
    loops = draw(st.booleans()) and draw(st.booleans())
    return TaskSpec(
        when=draw(st.none() | st.sampled_from(CONDITIONS)),
        can_return=draw(st.booleans()),
        can_reject=draw(st.booleans()),
        loop_back=draw(st.integers(0, position)) if loops else None,
        counter=draw(st.sampled_from(["c1", "c2"])),
    )


@st.composite
def sequences(draw: st.DrawFn, depth: int = 0) -> list[Any]:
    items: list[Any] = []
    for position in range(draw(st.integers(1, 4))):
        if depth < MAX_DEPTH and draw(st.integers(0, 3)) == 0:
            branches = draw(st.lists(sequences(depth + 1), min_size=2, max_size=3))
            items.append(ParallelSpec(branches))
        else:
            items.append(draw(task_specs(position)))
    return items


@dataclass
class _Compiler:
    steps: list[dict[str, Any] | None] = field(default_factory=list)
    counter: int = 0

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def sequence(self, items: list[Any], cont: str) -> str:
        ids = [self.new_id("p" if isinstance(i, ParallelSpec) else "s") for i in items]
        for pos, item in enumerate(items):
            nxt = ids[pos + 1] if pos + 1 < len(ids) else cont
            slot = len(self.steps)
            self.steps.append(None)  # keep document order: a parallel step before its branches
            if isinstance(item, ParallelSpec):
                entries = [self.sequence(branch, "join") for branch in item.branches]
                step: dict[str, Any] = {
                    "id": ids[pos],
                    "name": ids[pos],
                    "parallel": entries,
                    "then": nxt,
                }
            else:
                outcomes = {"approve": nxt}
                if item.can_return:
                    outcomes["return"] = "applicant"
                if item.can_reject:
                    outcomes["reject"] = "reject"
                if item.loop_back is not None:
                    outcomes["rework"] = ids[item.loop_back]
                step = {
                    "id": ids[pos],
                    "name": ids[pos],
                    "agency": "opd",
                    "counter": item.counter,
                    "deadline": {"working_days": 1},
                    "outcomes": outcomes,
                }
                if item.when is not None:
                    step["when"] = item.when
                    step["when_label"] = f"when {item.when}"  # the public reads a label
            self.steps[slot] = step
        return ids[0]


def compile_route(items: list[Any]) -> PermitType:
    compiler = _Compiler()
    compiler.sequence(items, "finish")
    return PermitType.model_validate(
        {
            "id": "GEN",
            "name": "Generated",
            "version": 1,
            "legal_basis": ["generated"],
            "product": "p",
            "complaints": "c",
            "service_time": {"standard": {"working_days": 5}},
            "form": FORM,
            "fees": {"free": True, "free_basis": "generated"},
            "steps": compiler.steps,
        }
    )


routes = sequences().map(compile_route)
applications = st.fixed_dictionaries(
    {
        "flag": st.booleans(),
        "area": st.sampled_from([1.0, 499.5, 500.0, 500.5, 2000.0]),
        "n": st.integers(1, 5),
    }
)


# --- invariants ---------------------------------------------------------------------------


def check_threads(stepper: Stepper, state: RouteState) -> None:
    if state.finished:
        assert state.tokens == () and state.joins == ()
        return
    held: Counter[Scope] = Counter()
    for token in state.tokens:
        assert token.scope == stepper.graph.scope[token.step_id]
        assert token.attempt == state.attempt_of(token.step_id) >= 1
        held[token.scope] += 1
    expected: Counter[Scope] = Counter({(): 1})
    for join in state.joins:
        parallel = stepper.graph.steps[join.parallel_id]
        assert isinstance(parallel, ParallelStep)
        assert join.branches == len(parallel.parallel)
        assert set(join.done) < set(range(join.branches))  # a full join has fired
        assert join.scope == stepper.graph.scope[join.parallel_id]
        held[join.scope] += 1
        for b in range(join.branches):
            if b not in join.done:
                expected[(*join.scope, (join.parallel_id, b))] += 1
    assert held == expected, f"threads {dict(held)} != open branches {dict(expected)}"
    assert len({t.step_id for t in state.tokens}) == len(state.tokens)


@dataclass
class JoinOracle:
    """Replays events: which branches have reached ``join`` since their parallel forked."""

    stepper: Stepper
    arrived: dict[str, set[int]] = field(default_factory=dict)
    joins_fired: int = 0

    def _arrive(self, step_id: str) -> None:
        frame: Frame = self.stepper.graph.scope[step_id][-1]
        parallel_id, branch = frame
        assert branch not in self.arrived[parallel_id], "a branch reached join twice"
        self.arrived[parallel_id].add(branch)

    def replay(self, transition: Transition) -> None:
        graph = self.stepper.graph
        for event in transition.events:
            assert event.step_id is None or event.step_id in graph.steps
            if event.kind == "branches_forked":
                assert event.step_id is not None
                self.arrived[event.step_id] = set()
            elif event.kind == "step_decided" and event.target == "join":
                assert event.step_id is not None
                self._arrive(event.step_id)
            elif event.kind == "step_skipped":
                assert event.step_id is not None
                if graph.task(event.step_id).outcomes["approve"] == "join":
                    self._arrive(event.step_id)
            elif event.kind == "branches_joined":
                assert event.step_id is not None
                parallel = graph.steps[event.step_id]
                assert isinstance(parallel, ParallelStep)
                branches = set(range(len(parallel.parallel)))
                assert self.arrived.pop(event.step_id) == branches, "join fired too early"
                self.joins_fired += 1
                if parallel.then == "join":
                    self._arrive(event.step_id)


def check_round_trip(state: RouteState) -> None:
    assert RouteState.model_validate(state.model_dump()) == state
    assert RouteState.model_validate_json(state.model_dump_json()) == state


@dataclass
class Driver:
    stepper: Stepper
    data: dict[str, object]
    oracle: JoinOracle
    state: RouteState = field(default_factory=RouteState)
    operations: int = 0

    def apply(self, transition: Transition) -> None:
        self.oracle.replay(transition)
        self.state = transition.state
        self.operations += 1
        check_threads(self.stepper, self.state)
        check_round_trip(self.state)

    def decide(self, step_id: str, outcome: str) -> None:
        before = self.state
        attempt = before.attempt_of(step_id)
        transition = self.stepper.decide(before, self.data, step_id, outcome)
        decided = transition.events[0]
        assert decided.kind == "step_decided" and decided.attempt == attempt
        self.apply(transition)
        if outcome == "return":
            token = self.state.token(step_id)
            assert token is not None and token.status == "returned"
            assert token.attempt == attempt

    def resubmit(self) -> None:
        returned = {t.step_id: t.attempt for t in self.state.tokens if t.status == "returned"}
        self.apply(self.stepper.resubmit(self.state))
        for step_id, attempt in returned.items():
            token = self.state.token(step_id)
            assert token is not None and token.status == "open" and token.attempt == attempt


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(permit=routes, data=applications, choices=st.data())
def test_random_decisions_keep_invariants_and_every_path_ends(
    permit: PermitType, data: dict[str, object], choices: st.DataObject
) -> None:
    # The generator only makes well-formed routes: the validator must agree.
    assert check_permit(permit, AGENCIES) == []
    assert PermitType.model_validate(permit.model_dump()) == permit
    stepper = Stepper(permit)
    driver = Driver(stepper, data, JoinOracle(stepper))
    driver.apply(stepper.start(data))

    # Random phase: any open step, any of its outcomes; sometimes a resubmission.
    for _ in range(choices.draw(st.integers(0, RANDOM_OPS), label="random ops")):
        state = driver.state
        if state.finished:
            break
        options: list[tuple[str, str]] = [
            (t.step_id, outcome)
            for t in state.tokens
            if t.status == "open"
            for outcome in stepper.graph.task(t.step_id).outcomes
        ]
        if any(t.status == "returned" for t in state.tokens):
            options.append(("", "resubmit"))
        step_id, outcome = choices.draw(st.sampled_from(options), label="operation")
        if outcome == "resubmit":
            driver.resubmit()
        else:
            driver.decide(step_id, outcome)

    # Forward phase: approve everything, resubmit corrections. Each approve moves a thread
    # forward along an acyclic path, so the permit ends within a bound.
    bound = 2 * len(permit.steps) + 2
    forward = 0
    while not driver.state.finished:
        forward += 1
        assert forward <= bound, "the route did not end on forward decisions"
        state = driver.state
        if any(t.status == "returned" for t in state.tokens):
            driver.resubmit()
            continue
        token = choices.draw(st.sampled_from(state.tokens), label="approve")
        driver.decide(token.step_id, "approve")
    assert driver.state.result in ("approved", "rejected")
    if forward:
        assert driver.state.result == "approved"
    if driver.state.result == "approved":
        assert driver.oracle.arrived == {}, "a parallel block never joined"

    # A closed application refuses everything and stays as it is.
    closed = driver.state
    first = stepper.graph.first
    for operation in (
        lambda: stepper.decide(closed, data, first, "approve"),
        lambda: stepper.resubmit(closed),
        lambda: stepper.cancel(closed),
    ):
        try:
            operation()
        except Refused as exc:
            assert exc.code is RefusalCode.CLOSED
        else:
            raise AssertionError("a closed application accepted an operation")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(permit=routes, data=applications, choices=st.data())
def test_decisions_on_steps_that_are_not_open_change_nothing(
    permit: PermitType, data: dict[str, object], choices: st.DataObject
) -> None:
    stepper = Stepper(permit)
    state = stepper.start(data).state
    for _ in range(choices.draw(st.integers(0, 10), label="approvals")):
        if state.finished:
            break
        open_now = [t for t in state.tokens if t.status == "open"]
        if not open_now:
            state = stepper.resubmit(state).state
            continue
        token = choices.draw(st.sampled_from(open_now))
        state = stepper.decide(state, data, token.step_id, "approve").state
    if state.finished:
        return
    closed_steps = [
        s.id for s in permit.steps if isinstance(s, TaskStep) and state.token(s.id) is None
    ]
    if closed_steps:
        step_id = choices.draw(st.sampled_from(closed_steps))
        before = state.model_dump()
        try:
            stepper.decide(state, data, step_id, "approve")
        except Refused as exc:
            assert exc.code in (RefusalCode.STEP_NOT_OPEN, RefusalCode.ALREADY_DECIDED)
            assert exc.params["step_id"] == step_id
        else:
            raise AssertionError("a decision on a closed step was accepted")
        assert state.model_dump() == before
