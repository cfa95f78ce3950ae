"""One application's path through a route, timed by the steps' deadlines.

The walk drives the routing core itself (start, then decide the open step that ends first
with its ``approve`` outcome), so conditions, skipped steps, parallel branches and AND-joins
behave exactly as in the workflow. Each step takes its full deadline: the result is the
longest the route may take when every agency uses its whole budget, which is the number
the published service time must cover.

Every opened step remembers which step(s) handed the file to it (its predecessors): the
step decided just before, or, after an AND-join, the last step of each branch. Hand-offs,
merge and parallel candidates and the critical path are all read off these edges.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field

from loket.calendar import WorkDuration
from loket.route.model import Target, TaskStep
from loket.route.stepper import RouteEvent, Stepper

# Working hours in one working day when a deadline is given in hours (the mall's usual
# 08:00-16:00); only used to put hours and days on one scale.
HOURS_PER_DAY = 8.0

# An approve-only walk that decides more steps than this loops (approve leads backwards).
_MAX_DECISIONS = 1_000


class WalkError(ValueError):
    """The route cannot be walked with 'approve' decisions (a loop, or no way forward)."""


def duration_days(duration: WorkDuration, hours_per_day: float = HOURS_PER_DAY) -> float:
    if duration.working_days is not None:
        return float(duration.working_days)
    assert duration.working_hours is not None
    return duration.working_hours / hours_per_day


def forward_outcome(step: TaskStep) -> str | None:
    """The outcome that moves the file on: 'approve', else the first that neither returns
    it to the applicant nor rejects it."""
    if "approve" in step.outcomes:
        return "approve"
    for name, target in step.outcomes.items():
        if target not in (Target.APPLICANT, Target.REJECT):
            return name
    return None


@dataclass(frozen=True)
class Visit:
    """A step on the walked path: when it opened and closed (working days from submission,
    on the government's clock) and who handed it the file."""

    step_id: str
    start: float
    end: float
    preds: tuple[str, ...]
    applicant_days: float  # deadline of a clock-paused step: time the applicant may take


@dataclass
class Walk:
    visits: dict[str, Visit] = field(default_factory=dict)  # in the order they opened
    skipped: list[str] = field(default_factory=list)
    last: str | None = None  # the step whose decision finished the permit
    result: str | None = None

    @property
    def order(self) -> list[str]:
        return list(self.visits)

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(p, v.step_id) for v in self.visits.values() for p in v.preds]

    @property
    def length(self) -> float:
        """Working days on the government's clock until the permit is finished."""
        return self.visits[self.last].end if self.last else 0.0

    def critical_path(self) -> list[str]:
        """From the first step to the finishing one, always through the latest predecessor."""
        path: list[str] = []
        current = self.last
        while current is not None:
            path.append(current)
            preds = self.visits[current].preds
            current = max(preds, key=lambda p: (self.visits[p].end, p)) if preds else None
        return path[::-1]

    def applicant_days(self, path: list[str]) -> float:
        return sum(self.visits[s].applicant_days for s in path)


def walk(
    stepper: Stepper, data: Mapping[str, object], hours_per_day: float = HOURS_PER_DAY
) -> Walk:
    """Walk ``data``'s path with 'approve' everywhere, each step taking its deadline.

    A step with ``clock: paused`` waits on the applicant (payment): it takes no government
    time, its deadline is recorded as applicant time instead, as the workflow's service
    clock does.
    """
    result = Walk()
    joined: dict[str, list[str]] = {}  # parallel id -> steps that reached its join
    heap: list[tuple[float, int, str]] = []
    seq = 0

    def absorb(events: tuple[RouteEvent, ...], decided: str | None, now: float) -> None:
        nonlocal seq
        preds: tuple[str, ...] = (decided,) if decided else ()
        for event in events:
            step_id = event.step_id or ""
            if event.kind == "step_decided" and event.target == Target.JOIN:
                scope = stepper.graph.scope.get(step_id, ())
                if scope:
                    joined.setdefault(scope[-1][0], []).append(step_id)
            elif event.kind == "step_skipped":
                result.skipped.append(step_id)
            elif event.kind == "branches_joined":
                # Every branch skipped all its steps: the file comes from before the fork.
                preds = tuple(joined.pop(step_id, [])) or preds
            elif event.kind == "step_opened":
                task = stepper.graph.task(step_id)
                paused = task.clock == "paused"
                days = duration_days(task.deadline, hours_per_day)
                end = now if paused else now + days
                if step_id in result.visits:
                    raise WalkError(f"step '{step_id}' opens twice when every step approves")
                result.visits[step_id] = Visit(
                    step_id, now, end, preds, applicant_days=days if paused else 0.0
                )
                seq += 1
                heapq.heappush(heap, (end, seq, step_id))
            elif event.kind == "permit_finished":
                result.result = event.result
                result.last = decided

    transition = stepper.start(data)
    absorb(transition.events, None, 0.0)
    state = transition.state
    decisions = 0
    while not state.finished:
        if not heap:
            raise WalkError(f"{stepper.permit.key}: no open step, yet the permit is not finished")
        end, _, step_id = heapq.heappop(heap)
        decisions += 1
        if decisions > _MAX_DECISIONS:
            raise WalkError(f"{stepper.permit.key}: 'approve' decisions loop")
        outcome = forward_outcome(stepper.graph.task(step_id))
        if outcome is None:
            raise WalkError(f"step '{step_id}' has no outcome that moves the file on")
        transition = stepper.decide(state, data, step_id, outcome)
        absorb(transition.events, step_id, end)
        state = transition.state
    return result
