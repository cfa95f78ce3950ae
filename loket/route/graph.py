"""The route as a graph: step index, branch scopes and edges. Pure; shared by the
validator, the stepper, the analyser and the simulator so they agree on structure."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from loket.route.model import RESERVED_TARGETS, ParallelStep, PermitType, Step, Target, TaskStep

# A branch frame: (parallel step id, branch index). A step's scope is the stack of frames
# of the parallel branches it runs inside; () is the main line.
Frame = tuple[str, int]
Scope = tuple[Frame, ...]


@dataclass(frozen=True)
class ScopeConflict:
    step_id: str
    first: Scope
    second: Scope


@dataclass
class RouteGraph:
    permit: PermitType
    steps: dict[str, Step] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)
    scope: dict[str, Scope] = field(default_factory=dict)
    conflicts: list[ScopeConflict] = field(default_factory=list)

    @property
    def first(self) -> str:
        return self.permit.steps[0].id

    def task(self, step_id: str) -> TaskStep:
        step = self.steps[step_id]
        if not isinstance(step, TaskStep):
            raise KeyError(f"{step_id!r} is a parallel step, not a task")
        return step

    def tasks(self) -> Iterator[TaskStep]:
        for step in self.permit.steps:
            if isinstance(step, TaskStep):
                yield step

    def targets(self, step: Step) -> list[str]:
        """Where control may go from ``step`` (step ids or reserved targets)."""
        if isinstance(step, ParallelStep):
            return [*step.parallel, step.then]
        return list(step.outcomes.values())


def build_graph(permit: PermitType) -> RouteGraph:
    """Index the steps and give each reachable one its branch scope.

    Duplicate ids keep the first; unknown targets are ignored here (the validator reports
    them), so this never raises on a broken route.
    """
    graph = RouteGraph(permit)
    for i, step in enumerate(permit.steps):
        graph.steps.setdefault(step.id, step)
        graph.index.setdefault(step.id, i)
    queue: deque[tuple[str, Scope]] = deque([(graph.first, ())])
    while queue:
        step_id, scope = queue.popleft()
        if step_id in RESERVED_TARGETS or step_id not in graph.steps:
            continue
        known = graph.scope.get(step_id)
        if known is not None:
            if known != scope:
                graph.conflicts.append(ScopeConflict(step_id, known, scope))
            continue
        graph.scope[step_id] = scope
        step = graph.steps[step_id]
        if isinstance(step, ParallelStep):
            for b, entry in enumerate(step.parallel):
                queue.append((entry, (*scope, (step.id, b))))
            queue.append((step.then, scope))
        else:
            for target in step.outcomes.values():
                queue.append((target, scope))
    return graph


def exits_reachable(graph: RouteGraph) -> dict[str, set[str]]:
    """For each reachable step, which reserved exits (finish, reject, join) some path reaches.

    A parallel step reaches what its ``then`` reaches, and only if every branch can reach
    ``join``; 'applicant' returns to the same step and so is no exit.
    """
    reach: dict[str, set[str]] = {s: set() for s in graph.scope}
    changed = True
    while changed:  # fixpoint over a small graph; loops converge
        changed = False
        for step_id in graph.scope:
            step = graph.steps[step_id]
            found: set[str] = set()
            if isinstance(step, ParallelStep):
                branches_join = all(
                    Target.JOIN.value in _exits_of(entry, reach) for entry in step.parallel
                )
                if branches_join:
                    found |= _exits_of(step.then, reach)
                # Any branch may reject the whole permit.
                for entry in step.parallel:
                    found |= _exits_of(entry, reach) & {Target.REJECT.value}
            else:
                for target in step.outcomes.values():
                    found |= _exits_of(target, reach)
            if not found <= reach[step_id]:
                reach[step_id] |= found
                changed = True
    return reach


def _exits_of(target: str, reach: dict[str, set[str]]) -> set[str]:
    if target in (Target.FINISH, Target.REJECT, Target.JOIN):
        return {target}
    return reach.get(target, set())
