"""The routing core: which steps are open, what a decision does, when the permit ends.

Pure and deterministic: no I/O, no clocks, no Temporal. The workflow, the simulator and
the analyser all drive this one implementation. State is a frozen value; every operation
returns the new state and the events that led there, or raises :class:`loket.refusal.Refused` with a code.

Semantics, in brief:
- entering a task step opens it (attempt n+1 if it ran before), unless its ``when`` is
  false: then it is skipped and the route goes on along its ``approve`` outcome;
- entering a parallel step opens every branch; a branch ends at ``join``; when every branch
  has joined, the route goes on at the parallel step's ``then`` (AND-join);
- an outcome leading to ``applicant`` parks the step until the applicant resubmits, then
  the same attempt reopens (its clock is paused, never reset: see the workflow);
- ``reject`` ends the permit at once and cancels every other open step; ``finish`` grants it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from loket.expr import compile_expression
from loket.refusal import RefusalCode, Refused
from loket.route.graph import RouteGraph, Scope, build_graph
from loket.route.model import ParallelStep, PermitType, Target, TaskStep

Result = Literal["approved", "rejected", "cancelled"]
EventKind = Literal[
    "step_opened",
    "step_skipped",
    "step_decided",
    "step_returned",
    "step_resumed",
    "step_cancelled",
    "branches_forked",
    "branches_joined",
    "permit_finished",
]

# Entering steps more often than this in one operation means skipped steps loop forever.
_MAX_ENTRIES = 10_000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Token(_Frozen):
    """An open step: where the file is now."""

    step_id: str
    attempt: int
    scope: Scope = ()
    status: Literal["open", "returned"] = "open"


class JoinState(_Frozen):
    parallel_id: str
    scope: Scope
    branches: int
    done: tuple[int, ...] = ()


class RouteState(_Frozen):
    tokens: tuple[Token, ...] = ()
    joins: tuple[JoinState, ...] = ()
    attempts: tuple[tuple[str, int], ...] = ()
    result: Result | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None

    def token(self, step_id: str) -> Token | None:
        return next((t for t in self.tokens if t.step_id == step_id), None)

    def attempt_of(self, step_id: str) -> int:
        return dict(self.attempts).get(step_id, 0)


class RouteEvent(_Frozen):
    kind: EventKind
    step_id: str | None = None
    attempt: int | None = None
    outcome: str | None = None
    target: str | None = None
    result: Result | None = None


class Transition(_Frozen):
    state: RouteState
    events: tuple[RouteEvent, ...]


class RouteLoopError(RuntimeError):
    pass


@dataclass
class _Run:
    """Mutable scratch for one operation; turned back into a frozen state at the end."""

    tokens: list[Token]
    joins: list[JoinState]
    attempts: dict[str, int]
    result: Result | None
    events: list[RouteEvent] = field(default_factory=list)
    entries: int = 0

    @classmethod
    def of(cls, state: RouteState) -> _Run:
        return cls(list(state.tokens), list(state.joins), dict(state.attempts), state.result)

    def done(self) -> Transition:
        state = RouteState(
            tokens=tuple(self.tokens),
            joins=tuple(self.joins),
            attempts=tuple(sorted(self.attempts.items())),
            result=self.result,
        )
        return Transition(state=state, events=tuple(self.events))


class Stepper:
    """The routing core for one permit type (version)."""

    def __init__(self, permit: PermitType) -> None:
        self.permit = permit
        self.graph: RouteGraph = build_graph(permit)

    # --- operations ----------------------------------------------------------------------

    def start(self, data: Mapping[str, object]) -> Transition:
        run = _Run.of(RouteState())
        self._enter(run, self.graph.first, (), data)
        return run.done()

    def check_decision(self, state: RouteState, step_id: str, outcome: str) -> TaskStep:
        """Raise :class:`Refused` unless ``outcome`` may be chosen at ``step_id`` now."""
        if state.finished:
            raise Refused(RefusalCode.CLOSED, result=state.result)
        step = self.graph.steps.get(step_id)
        if not isinstance(step, TaskStep):
            raise Refused(RefusalCode.UNKNOWN_STEP, step_id=step_id, permit=self.permit.key)
        token = state.token(step_id)
        if token is None:
            code = (
                RefusalCode.ALREADY_DECIDED
                if state.attempt_of(step_id)
                else RefusalCode.STEP_NOT_OPEN
            )
            raise Refused(code, step_id=step_id, open_steps=self.open_step_ids(state))
        if token.status == "returned":
            raise Refused(RefusalCode.WAITING_FOR_APPLICANT, step_id=step_id)
        if outcome not in step.outcomes:
            raise Refused(
                RefusalCode.UNKNOWN_OUTCOME,
                step_id=step_id,
                outcome=outcome,
                choices=tuple(step.outcomes),
            )
        return step

    def decide(
        self, state: RouteState, data: Mapping[str, object], step_id: str, outcome: str
    ) -> Transition:
        step = self.check_decision(state, step_id, outcome)
        run = _Run.of(state)
        token = next(t for t in run.tokens if t.step_id == step_id)
        run.tokens.remove(token)
        target = step.outcomes[outcome]
        run.events.append(
            RouteEvent(
                kind="step_decided",
                step_id=step_id,
                attempt=token.attempt,
                outcome=outcome,
                target=target,
            )
        )
        if target == Target.APPLICANT:
            run.tokens.append(token.model_copy(update={"status": "returned"}))
            run.events.append(
                RouteEvent(kind="step_returned", step_id=step_id, attempt=token.attempt)
            )
        else:
            self._enter(run, target, token.scope, data)
        return run.done()

    def check_resubmission(self, state: RouteState) -> None:
        if state.finished:
            raise Refused(RefusalCode.CLOSED, result=state.result)
        if not any(t.status == "returned" for t in state.tokens):
            raise Refused(RefusalCode.NOTHING_TO_RESUBMIT)

    def resubmit(self, state: RouteState) -> Transition:
        """The applicant sent corrections: every returned step reopens, same attempt."""
        self.check_resubmission(state)
        run = _Run.of(state)
        for i, token in enumerate(run.tokens):
            if token.status == "returned":
                run.tokens[i] = token.model_copy(update={"status": "open"})
                run.events.append(
                    RouteEvent(kind="step_resumed", step_id=token.step_id, attempt=token.attempt)
                )
        return run.done()

    def cancel(self, state: RouteState) -> Transition:
        if state.finished:
            raise Refused(RefusalCode.CLOSED, result=state.result)
        run = _Run.of(state)
        self._finish(run, "cancelled")
        return run.done()

    # --- reading -------------------------------------------------------------------------

    def open_tasks(self, state: RouteState) -> list[tuple[Token, TaskStep]]:
        return [(t, self.graph.task(t.step_id)) for t in state.tokens]

    def open_step_ids(self, state: RouteState) -> tuple[str, ...]:
        return tuple(t.step_id for t in state.tokens)

    # --- internals -----------------------------------------------------------------------

    def _enter(self, run: _Run, target: str, scope: Scope, data: Mapping[str, object]) -> None:
        if run.result is not None:
            return
        run.entries += 1
        if run.entries > _MAX_ENTRIES:
            raise RouteLoopError(f"{self.permit.key}: skipped steps loop without end at '{target}'")
        if target == Target.FINISH:
            self._finish(run, "approved")
        elif target == Target.REJECT:
            self._finish(run, "rejected")
        elif target == Target.JOIN:
            self._join(run, scope, data)
        else:
            step = self.graph.steps[target]
            if isinstance(step, ParallelStep):
                self._fork(run, step, scope, data)
            elif step.when is not None and not compile_expression(step.when).evaluate_bool(data):
                run.events.append(RouteEvent(kind="step_skipped", step_id=step.id))
                self._enter(run, step.outcomes["approve"], scope, data)
            else:
                attempt = run.attempts.get(step.id, 0) + 1
                run.attempts[step.id] = attempt
                run.tokens.append(Token(step_id=step.id, attempt=attempt, scope=scope))
                run.events.append(RouteEvent(kind="step_opened", step_id=step.id, attempt=attempt))

    def _fork(
        self, run: _Run, step: ParallelStep, scope: Scope, data: Mapping[str, object]
    ) -> None:
        run.joins.append(JoinState(parallel_id=step.id, scope=scope, branches=len(step.parallel)))
        run.events.append(RouteEvent(kind="branches_forked", step_id=step.id))
        for b, entry in enumerate(step.parallel):
            self._enter(run, entry, (*scope, (step.id, b)), data)

    def _join(self, run: _Run, scope: Scope, data: Mapping[str, object]) -> None:
        if not scope:
            raise RouteLoopError(f"{self.permit.key}: 'join' reached outside a parallel branch")
        (parallel_id, branch), outer = scope[-1], scope[:-1]
        i, join = next(
            (i, j)
            for i, j in enumerate(run.joins)
            if j.parallel_id == parallel_id and j.scope == outer
        )
        join = join.model_copy(update={"done": tuple(sorted({*join.done, branch}))})
        if len(join.done) < join.branches:
            run.joins[i] = join
            return
        del run.joins[i]
        run.events.append(RouteEvent(kind="branches_joined", step_id=parallel_id))
        step = self.graph.steps[parallel_id]
        assert isinstance(step, ParallelStep)
        self._enter(run, step.then, outer, data)

    def _finish(self, run: _Run, result: Result) -> None:
        for token in run.tokens:
            run.events.append(
                RouteEvent(kind="step_cancelled", step_id=token.step_id, attempt=token.attempt)
            )
        run.tokens.clear()
        run.joins.clear()
        run.result = result
        run.events.append(RouteEvent(kind="permit_finished", result=result))
