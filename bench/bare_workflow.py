"""The baseline of ``handoff.py``: a bare Temporal workflow with no database.

Its ``decide`` Update runs one trivial activity (the stand-in for "open the next step") and
returns. Same server, same data converter, same sandbox as Loket's workflow: what is left
between the two is Loket's own work (routing core, records in PostgreSQL, search
attributes). Kept in its own module so the workflow sandbox can import it by name.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity, workflow

BARE_WORKFLOW = "BareHandoff"
BARE_UPDATE = "decide"


@activity.defn(name="bare_open_step")
async def bare_open_step(step: int) -> float:
    """Trivial activity: returns the wall-clock instant it ran (seconds since the epoch)."""
    del step
    return time.time()


@workflow.defn(name=BARE_WORKFLOW)
class BareHandoffWorkflow:
    def __init__(self) -> None:
        self._decided = 0

    @workflow.run
    async def run(self, steps: int, padding: str = "") -> int:
        # padding: a start input of a chosen size (memory.py --bare-input-kb), never read.
        await workflow.wait_condition(lambda: self._decided >= steps)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._decided

    @workflow.update(name=BARE_UPDATE)
    async def decide(self, step: int) -> float:
        ran_at = await workflow.execute_activity(
            bare_open_step, step, start_to_close_timeout=timedelta(seconds=30)
        )
        self._decided += 1
        return ran_at


# --- the baseline of escalation.py: a timer due at one instant fires one trivial activity

BARE_ESCALATION = "BareEscalation"


@activity.defn(name="bare_escalate")
async def bare_escalate(record_path: str, line: str) -> None:
    """Trivial activity: appends ``<line> <instant it ran>`` to a file (one short O_APPEND
    write per call, so concurrent activities never interleave within a line)."""
    fd = os.open(record_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line} {time.time():.6f}\n".encode())
    finally:
        os.close(fd)


@workflow.defn(name=BARE_ESCALATION)
class BareEscalationWorkflow:
    @workflow.run
    async def run(self, record_path: str, due_epoch: float) -> None:
        due = datetime.fromtimestamp(due_epoch, UTC)
        # Armed after the due instant means the start phase was too slow: reported apart.
        late = workflow.now() >= due
        if not late:
            await workflow.sleep(due - workflow.now())
        await workflow.execute_activity(
            bare_escalate,
            args=[record_path, f"{workflow.info().workflow_id} {int(late)}"],
            start_to_close_timeout=timedelta(seconds=30),
        )


# What the bare worker registers (worker_proc.py): add baseline workflows here.
BARE_WORKFLOWS: list[type] = [BareHandoffWorkflow, BareEscalationWorkflow]
BARE_ACTIVITIES: list[Callable[..., Any]] = [bare_open_step, bare_escalate]
