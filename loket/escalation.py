"""When each escalation rule of a step fires: pure working-time arithmetic.

A rule fires at a share of the step's budget (``at_percent``) or some working time after
its deadline (``after_due``). Pauses of the clock move both, exactly as they move the
deadline; while the step is paused no rule is due. Each rule fires once per step attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import Field

from loket.calendar import Pause, WorkCalendar
from loket.route.model import EscalationRule, PermitType, TaskStep

# The window a deployment spreads its files' rules over (loket.case.escalation.spread), in
# seconds; up to an hour, more than that would make a working-day rule's escalation later
# than a supervisor would accept. The setting and the workflow input check this one bound.
EscalationSpread = Annotated[int, Field(ge=0, le=3600)]


def rules_for(permit: PermitType, step: TaskStep) -> list[EscalationRule]:
    """A step's own rules, else the route's default ladder."""
    return list(step.escalation if step.escalation is not None else permit.escalation)


def rule_instant(
    calendar: WorkCalendar,
    rule: EscalationRule,
    opened_at: datetime,
    base_due: datetime,
    pauses: Sequence[Pause],
) -> datetime | None:
    """The instant ``rule`` fires for a step opened at ``opened_at``; None while paused."""
    if rule.at_percent is not None:
        budget = calendar.elapsed(opened_at, base_due)
        threshold = calendar.add_working_time(opened_at, budget * rule.at_percent / 100)
        return calendar.due_after_pauses(opened_at, threshold, pauses)
    assert rule.after_due is not None  # EscalationRule guarantees one trigger
    due = calendar.due_after_pauses(opened_at, base_due, pauses)
    return None if due is None else calendar.add(due, rule.after_due)
