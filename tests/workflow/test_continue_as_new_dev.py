"""Continue-as-new carries the case on: a dev server told to suggest it after a few dozen
events makes a PBG file run through several runs, and nothing of it is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.store.records import verify_audit_chain
from loket.temporal_codec import DATA_CONVERTER
from tests.workflow.support import (
    DLH,
    FRONT,
    ISSUANCE,
    RETRIBUTION,
    SECRETARIAT,
    TELLER,
    TPA,
    submit_pbg,
)
from worker import build_worker
from workflows.messages import (
    Actor,
    ApplicationView,
    ClaimRequest,
    DecisionRequest,
    ReassignRequest,
)

pytestmark = pytest.mark.devserver

SUGGEST_AFTER_EVENTS = 40


@pytest_asyncio.fixture(loop_scope="session")
async def eager_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(services.temporal_cli_path()),
        dev_server_extra_args=[
            *services.search_attribute_args(),
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_AFTER_EVENTS}",
        ],
        data_converter=DATA_CONVERTER,
    )
    async with env:
        yield env


@pytest.mark.timeout(180)
async def test_a_long_file_continues_as_new_with_its_whole_case(
    eager_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = eager_env.client
    supervisor = Actor(username="sari", role="supervisor", agency="dpupr")
    async with build_worker(client, pool, task_queue):
        submitted = await submit_pbg(client, pool, catalog, calendar_snapshot, task_queue)
        reg = submitted.registration_number
        handle = client.get_workflow_handle(reg, result_type=ApplicationView)  # the latest run

        async def decide(actor: Actor, step: str, outcome: str = "approve") -> ApplicationView:
            return await handle.execute_update(
                "decide",
                DecisionRequest(
                    step_id=step,
                    outcome=outcome,
                    actor=actor,
                    # The payment step is billed: the teller records the SSRD's number.
                    receipt_number="SSRD-1" if step == "payment" else None,
                ),
                result_type=ApplicationView,
            )

        await decide(FRONT, "registration")
        # Claims passed back and forth: each one is history, none changes the route.
        for _ in range(6):
            await handle.execute_update(
                "claim",
                ClaimRequest(step_id="completeness", actor=SECRETARIAT),
                result_type=ApplicationView,
            )
            await handle.execute_update(
                "reassign",
                ReassignRequest(step_id="completeness", to=None, reason="rotasi", actor=supervisor),
                result_type=ApplicationView,
            )
        middle = await handle.query("view", result_type=ApplicationView)
        await decide(SECRETARIAT, "completeness")
        await decide(DLH, "environmental_review")
        await decide(TPA, "tpa_review")
        await decide(RETRIBUTION, "assessment")
        await decide(TELLER, "payment")
        await decide(ISSUANCE, "issuance")
        result = await handle.result()

        runs = [e async for e in client.list_workflows(f"WorkflowId = '{reg}'")]
        assert len(runs) >= 2, "the dev server suggested continue-as-new; the case must follow"
        assert result.status == "approved"
        assert result.submitted_at == middle.submitted_at
        assert result.service_due_at is not None and result.fees is not None
        # The bill is part of the case that continue-as-new carries: paid, by the teller.
        assert [b.status for b in result.bills] == ["paid"]
        async with pool.acquire() as conn:
            seqs = [
                r["seq"]
                for r in await conn.fetch(
                    "SELECT seq FROM audit_events WHERE registration_number = $1 ORDER BY seq", reg
                )
            ]
            assert seqs == list(range(1, result.audit_seq + 1))
            assert await verify_audit_chain(conn, reg) == []
            tasks = await conn.fetchval(
                "SELECT count(*) FROM tasks WHERE registration_number = $1", reg
            )
        assert tasks == 7  # each step once: a continued run opens nothing again
