"""PBG applications for ``cold.py`` and ``burst.py``: submit them, decide their steps.

Decisions go as the ``decide`` Update, exactly as ``handoff.py`` sends them (its staff
member serving every counter, its choice of outcome, the SSRD number for the payment step).
"""

from __future__ import annotations

from typing import Any

from _common import Stack, monotonic
from handoff import DEFINITIONS, FORMS, LoketSide, RowPoller, pick_outcome, staff_for

from loket.calendar import CalendarSnapshot
from loket.route.loader import load_catalog
from loket.route.model import PermitType
from workflows.messages import ApplicationView, DecisionRequest

PBG_FORM = FORMS["PBG"]  # 640 m², usaha: environmental review and a retribution to pay
BENCH_VERSION = 900  # never a definitions/ version: the benchmark's own route


def catalog_pbg() -> PermitType:
    return load_catalog(DEFINITIONS).permit("PBG")


def storm_pbg(at_percent: int, step_hours: int = 1) -> PermitType:
    """PBG as defined, except that its first step (registration) has a deadline of
    ``step_hours`` working hours and one reminder at ``at_percent`` of it: PBG's own rules
    are in working days, too long to fall due during a benchmark."""
    data: dict[str, Any] = catalog_pbg().model_dump(mode="json")
    data["version"] = BENCH_VERSION
    first = data["steps"][0]
    first["deadline"] = {"working_hours": step_hours}
    first["escalation"] = [{"at_percent": at_percent, "action": "remind", "to": "assignee"}]
    return PermitType.model_validate(data)


async def submit_ready(
    stack: Stack,
    permit: PermitType,
    calendar: CalendarSnapshot,
    task_queue: str,
    count: int,
    concurrency: int = 10,
) -> list[tuple[str, ApplicationView]]:
    """``count`` applications submitted, each with its view once its first row exists."""
    side = LoketSide(stack, permit, calendar, task_queue, RowPoller(stack.pool, 1.0), concurrency)
    return await side.submit(count)


class Decider:
    """Decides one open step at a time, as one staff member serving every counter."""

    def __init__(self, stack: Stack, permit: PermitType) -> None:
        self._client = stack.client
        self._actor = staff_for(permit)

    async def decide(
        self, reg: str, view: ApplicationView, step_id: str | None = None
    ) -> tuple[ApplicationView, float]:
        """Decide ``step_id`` (default: the first open step); the new view and the round
        trip in seconds."""
        step = next(s for s in view.open_steps if step_id in (None, s.step_id))
        request = DecisionRequest(
            step_id=step.step_id,
            outcome=pick_outcome(step.outcomes),
            actor=self._actor,
            receipt_number=f"SSRD-{reg}",  # approves a billed payment step, ignored elsewhere
        )
        handle = self._client.get_workflow_handle(reg, result_type=ApplicationView)
        sent = monotonic()
        new = await handle.execute_update("decide", request, result_type=ApplicationView)
        return new, monotonic() - sent

    async def drive_until(self, reg: str, view: ApplicationView, last_step: str) -> ApplicationView:
        """Decide every step before ``last_step``; return the view with it open (and only it)."""
        while not (len(view.open_steps) == 1 and view.open_steps[0].step_id == last_step):
            if view.status != "in_progress":
                raise RuntimeError(f"{reg} ended ({view.status}) before {last_step}")
            view, _ = await self.decide(reg, view)
        return view
