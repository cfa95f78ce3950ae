"""The permit workflow on the real Temporal dev server: history, search attributes, types."""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from tests.support import eventually, refusal_code
from tests.workflow.support import FRONT, SECRETARIAT, TPA, submit_pbg
from worker import build_worker
from workflows.messages import ApplicationView, DecisionRequest

pytestmark = pytest.mark.devserver


async def test_refusals_leave_no_trace_and_search_attributes_answer_admin_questions(
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_dev_env.client
    async with build_worker(client, pool, task_queue):
        submitted = await submit_pbg(client, pool, catalog, calendar_snapshot, task_queue)
        reg, handle = submitted.registration_number, submitted.handle

        # A refused Update is answered by the validator: the history does not grow at all.
        # (First let the workflow go idle.)
        async def events() -> list[int]:
            return [e.event_type for e in (await handle.fetch_history()).events]

        def settled(ev: list[int]) -> bool:
            # The escalation timer is started and every activity (the record, the
            # applicant's channel deliveries) has finished: nothing more will be written.
            scheduled = ev.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
            finished = ev.count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) + ev.count(
                EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
            )
            return (
                EventType.EVENT_TYPE_TIMER_STARTED in ev
                and scheduled == finished
                and ev[-1]
                in (
                    EventType.EVENT_TYPE_TIMER_STARTED,
                    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
                )
            )

        idle = await eventually(events, settled)
        before = len(idle)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                "decide",
                DecisionRequest(step_id="registration", outcome="approve", actor=TPA),
                result_type=ApplicationView,
            )
        assert refusal_code(refused.value) == "not_your_counter"
        assert len((await handle.fetch_history()).events) == before

        await handle.execute_update(
            "decide",
            DecisionRequest(step_id="registration", outcome="approve", actor=FRONT),
            result_type=ApplicationView,
        )
        await handle.execute_update(
            "decide",
            DecisionRequest(step_id="completeness", outcome="approve", actor=SECRETARIAT),
            result_type=ApplicationView,
        )

        # The Temporal UI lists it as a PBG, and visibility queries find it by step and agency.
        description = await handle.describe()
        assert description.workflow_type == "PBG"
        query = (
            f'WorkflowId = "{reg}" AND LoketPermitType = "PBG" AND LoketStep = "tpa_review" '
            'AND LoketAgency = "dlh" AND LoketDueTime > "2000-01-01T00:00:00Z"'
        )

        async def matching() -> list[str]:
            return [w.id async for w in client.list_workflows(query)]

        assert await eventually(matching, lambda ids: ids == [reg])
        attributes = description.typed_search_attributes
        assert not any("Siti" in str(pair.value) for pair in attributes)  # no personal data
        # The Temporal UI reads like the inbox: summary, memo, current details; no personal data.
        assert (await description.static_summary() or "").startswith("PBG v1:")
        assert (await description.memo())["permit_type"] == "PBG"
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        assert "tpa_review (dpupr/tpa) open, due " in metadata.current_details
        assert "Siti" not in metadata.current_details + (await description.static_details() or "")
        await handle.terminate("test done")
