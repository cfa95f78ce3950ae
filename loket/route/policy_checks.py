"""Checks of the per-step deadline policies (deemed approval, an automatic outcome at the
deadline) and of the outcomes an applicant may choose; the validator adds them to the rest."""

from __future__ import annotations

from collections.abc import Iterable

from loket.route.model import PermitType, Target, TaskStep

Problem = tuple[str, str]


def check_policies(permit: PermitType) -> Iterable[Problem]:
    for i, step in enumerate(permit.steps):
        if isinstance(step, TaskStep):
            yield from _check_step(f"steps[{i}]", step)


def _check_step(at: str, step: TaskStep) -> Iterable[Problem]:
    if step.deemed_approval is not None and step.on_deadline is not None:
        yield f"{at}.on_deadline", "give either 'deemed_approval' or 'on_deadline', not both"
    if step.deemed_approval is not None:
        target = step.outcomes.get("approve")
        if target is None:
            yield (
                f"{at}.deemed_approval",
                "deemed approval needs an 'approve' outcome: the step is approved at its deadline",
            )
        elif target == Target.APPLICANT:
            yield f"{at}.deemed_approval", "'approve' returns to the applicant: nothing to approve"
    if step.on_deadline is not None:
        target = step.outcomes.get(step.on_deadline.outcome)
        if target is None:
            choices = ", ".join(step.outcomes)
            yield (
                f"{at}.on_deadline.outcome",
                f"'{step.on_deadline.outcome}' is not an outcome of this step (its outcomes: "
                f"{choices})",
            )
        elif target == Target.APPLICANT:
            yield f"{at}.on_deadline.outcome", "an automatic outcome cannot return to the applicant"
    if (step.deemed_approval or step.on_deadline) and step.clock == "paused":
        yield f"{at}.clock", "a step whose clock is paused has no deadline for a policy to pass"
    for j, outcome in enumerate(step.applicant_outcomes):
        if outcome not in step.outcomes:
            yield f"{at}.applicant_outcomes[{j}]", f"'{outcome}' is not an outcome of this step"
        elif step.outcomes[outcome] == Target.APPLICANT:
            yield f"{at}.applicant_outcomes[{j}]", "the applicant cannot return a file to itself"
