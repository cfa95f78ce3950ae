"""Route rules of billing (issue 11): the payment step and its reminders to the applicant.

The payment step is the one with ``pay_within``: when it opens on a case whose fees were
assessed with something to pay, the bill (SKRD) is issued, payable for that working time.
"""

from __future__ import annotations

from collections.abc import Iterable

from loket.route.model import PermitType, TaskStep

Problem = tuple[str, str]


def payment_step(permit: PermitType) -> TaskStep | None:
    """The step that bills (validation allows at most one)."""
    return next(
        (s for s in permit.steps if isinstance(s, TaskStep) and s.pay_within is not None), None
    )


def check_payment_step(permit: PermitType) -> Iterable[Problem]:
    paying = [i for i, s in enumerate(permit.steps) if isinstance(s, TaskStep) and s.pay_within]
    assessing = any(isinstance(s, TaskStep) and s.assesses_fees for s in permit.steps)
    for i in paying:
        step = permit.steps[i]
        assert isinstance(step, TaskStep)
        where = f"steps[{i}].pay_within"
        if permit.fees.free:
            yield where, "this license is free: no step takes a payment"
        elif not assessing:
            yield where, "a payment step needs a step with 'assesses_fees: true' before it"
        if step.clock != "paused":
            yield where, "a payment step waits on the applicant: give it 'clock: paused'"
        if "approve" not in step.outcomes:
            yield where, "a payment step needs an 'approve' outcome: a payment closes it there"
        if step.assesses_fees:
            yield where, "the bill is assessed at a step before the payment step, not at it"
    for i in paying[1:]:
        yield f"steps[{i}].pay_within", "only one step takes the payment"
    for i, rule in enumerate(permit.escalation):
        if rule.to == "applicant":
            yield f"escalation[{i}].to", "only a payment step's own rules remind the applicant"
    for i, step in enumerate(permit.steps):
        if not isinstance(step, TaskStep):
            continue
        for r, rule in enumerate(step.escalation or ()):
            if rule.to != "applicant":
                continue
            if step.pay_within is None:
                yield (
                    f"steps[{i}].escalation[{r}].to",
                    "only a payment step (with 'pay_within') reminds the applicant",
                )
            elif rule.action != "remind":
                yield f"steps[{i}].escalation[{r}].action", "the applicant is only reminded"
