"""Which steps of a route take an outcome on their own at their deadline (deemed approval,
an automatic outcome), for the route analysis: the rule itself is the case core's."""

from __future__ import annotations

from dataclasses import dataclass

from loket.case.deadline_policy import policy_of
from loket.route.graph import RouteGraph


@dataclass(frozen=True)
class StepPolicy:
    step_id: str
    kind: str  # "deemed_approval" or "on_deadline"
    outcome: str
    target: str  # where the file goes when the policy is taken
    deadline: str
    legal_basis: str


def step_policies(graph: RouteGraph) -> list[StepPolicy]:
    found = []
    for step in graph.tasks():
        policy = policy_of(step)
        if policy is not None:
            found.append(
                StepPolicy(
                    step_id=step.id,
                    kind="deemed_approval" if policy.deemed else "on_deadline",
                    outcome=policy.outcome,
                    target=step.outcomes[policy.outcome],
                    deadline=str(step.deadline),
                    legal_basis=policy.legal_basis,
                )
            )
    return found


def policy_lines(policies: list[StepPolicy]) -> list[str]:
    lines = [f"steps deciding on their own at the deadline: {len(policies) or 'none'}"]
    for p in policies:
        what = "deemed approved (fiktif positif)" if p.kind == "deemed_approval" else p.outcome
        lines.append(
            f"  {p.step_id}: {what} after {p.deadline}, goes to '{p.target}'  [{p.legal_basis}]"
        )
    return lines
