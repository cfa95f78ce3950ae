"""The issuing decision in the workflow (time-skipping server, real PostgreSQL): it answers
with the number, a retry of the same Update answers the same; with nobody holding the
signing position it is refused and takes no number; while a permit is being rendered a
cancel is refused (a number taken for a cancelled file would be a gap)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notify import NotifyActivities
from activities.permits import PermitActivities
from activities.records import RecordActivities
from loket.calendar import CalendarSnapshot
from loket.case.permit import IssuedPermit, NumberingRequest
from loket.files import LocalFileStore
from loket.route.loader import Catalog
from loket.store import permits
from tests.support import refusal_code, refusal_params
from tests.workflow.support import submit_sips
from tests.workflow.test_worker_crash import ROUTE
from worker import build_worker, workflow_runner
from workflows.messages import Actor, ApplicationView, CancelRequest, DecisionRequest
from workflows.permit import PermitWorkflow

Handle = WorkflowHandle[Any, ApplicationView]
ISSUER = ROUTE[-1][1]
ADMIN = Actor(username="admin", role="admin")


async def _to_issuance(client: Client, reg: str) -> Handle:
    handle = client.get_workflow_handle(reg, result_type=ApplicationView)
    for step, actor in ROUTE[:-1]:
        for _ in range(200):
            view = await handle.query("view", result_type=ApplicationView)
            if any(s.step_id == step for s in view.open_steps):
                break
            await asyncio.sleep(0.05)
        await handle.execute_update(
            "decide", DecisionRequest(step_id=step, outcome="approve", actor=actor)
        )
    return handle


def _issue(handle: Handle, key: str = "issue-1") -> Any:
    return handle.execute_update(
        "decide",
        DecisionRequest(step_id="issuance", outcome="approve", actor=ISSUER),
        id=key,
        result_type=ApplicationView,
    )


async def test_the_update_answers_with_the_number_and_a_retry_the_same(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_ts_env.client
    async with build_worker(client, pool, task_queue):
        (reg,) = await submit_sips(client, pool, catalog, calendar_snapshot, task_queue, 1)
        started = time.perf_counter()
        handle = await _to_issuance(client, reg)
        plain = (time.perf_counter() - started) / (len(ROUTE) - 1)
        started = time.perf_counter()
        view = await _issue(handle)
        issuing = time.perf_counter() - started
        again = await _issue(handle)
        result = await handle.result()
    print(f"\nplain decision {plain * 1000:.0f} ms; issuing decision {issuing * 1000:.0f} ms")
    assert view.status == "approved" and view.permit_number is not None
    assert view.permit_number.startswith("503/0001/SIP/DPMPTSP/")
    assert again.permit_number == view.permit_number == result.permit_number
    assert await pool.fetchval("SELECT count(*) FROM permits") == 1


async def test_no_signing_official_refuses_and_takes_no_number(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_ts_env.client
    await pool.execute("DELETE FROM officials")
    async with build_worker(client, pool, task_queue):
        (reg,) = await submit_sips(client, pool, catalog, calendar_snapshot, task_queue, 1)
        handle = await _to_issuance(client, reg)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await _issue(handle)
        assert refusal_code(refused.value) == "no_signing_official"
        assert refusal_params(refused.value)["position"] == "kepala_dpmptsp"
        assert await pool.fetchval("SELECT count(*) FROM permit_counters") == 0
        view = await handle.query("view", result_type=ApplicationView)
        assert [s.step_id for s in view.open_steps] == ["issuance"]
        async with pool.acquire() as conn:
            await permits.add_official(
                conn,
                position="kepala_dpmptsp",
                title="Kepala Dinas",
                name="Rudi Hartono, S.E.",
                nip="198001012006041001",
                valid_from=date(2020, 1, 1),
                valid_to=None,
                acting="plt",
            )
        view = await _issue(handle, "issue-2")
    assert view.permit_number is not None and "/0001/" in view.permit_number


@contextlib.asynccontextmanager
async def _worker(
    client: Client, task_queue: str, pool: asyncpg.Pool, issue_permit: Callable[..., Any]
) -> AsyncIterator[Worker]:
    """The permit workflow's worker with ``issue_permit`` in place of the real one."""
    async with httpx.AsyncClient() as http:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[PermitWorkflow],
            activities=[
                RecordActivities(pool).record_transition,
                NotifyActivities(pool, "", http).deliver_notification,
                issue_permit,
            ],
            workflow_runner=workflow_runner(),
        )
        async with worker:
            yield worker


class HeldIssue:
    """The real issuing activity, held until the test lets it go."""

    def __init__(self, real: PermitActivities) -> None:
        self.real = real
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name="issue_permit")
    async def issue_permit(self, request: NumberingRequest) -> IssuedPermit:
        self.started.set()
        await self.release.wait()
        return await self.real.issue_permit(request)


async def test_a_cancel_while_the_permit_is_rendered_is_refused(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
    tmp_path: Any,
) -> None:
    client = temporal_ts_env.client
    real = PermitActivities(pool, LocalFileStore(tmp_path), "http://loket.test")
    held = HeldIssue(real)
    async with _worker(client, task_queue, pool, held.issue_permit):
        (reg,) = await submit_sips(client, pool, catalog, calendar_snapshot, task_queue, 1)
        handle = await _to_issuance(client, reg)
        issuing = asyncio.create_task(_issue(handle))
        await asyncio.wait_for(held.started.wait(), 30)
        cancel = handle.execute_update(
            "cancel",
            CancelRequest(reason="salah kirim", actor=ADMIN),
            result_type=ApplicationView,
        )
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await cancel
        assert refusal_code(refused.value) == "permit_being_issued"
        with pytest.raises(WorkflowUpdateFailedError) as second:
            await _issue(handle, "issue-other-key")
        assert refusal_code(second.value) == "permit_being_issued"
        held.release.set()
        view = await issuing
        assert view.status == "approved" and view.permit_number is not None
    row = await pool.fetchrow("SELECT status, seq FROM permits WHERE registration_number = $1", reg)
    assert (row["status"], row["seq"]) == ("issued", 1)


class LostAfterIssuing:
    """The real issuing activity whose first attempt loses its answer after the number is
    taken and the PDF stored, as a worker killed at that moment would."""

    def __init__(self, real: PermitActivities) -> None:
        self.real = real
        self.results: list[IssuedPermit] = []

    @activity.defn(name="issue_permit")
    async def issue_permit(self, request: NumberingRequest) -> IssuedPermit:
        issued = await self.real.issue_permit(request)
        self.results.append(issued)
        if activity.info().attempt == 1:
            raise RuntimeError("the worker lost its answer after issuing")
        return issued


async def test_an_issue_retried_after_it_numbered_takes_no_second_number(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
    tmp_path: Any,
) -> None:
    client = temporal_ts_env.client
    lost = LostAfterIssuing(PermitActivities(pool, LocalFileStore(tmp_path), "http://loket.test"))
    async with _worker(client, task_queue, pool, lost.issue_permit):
        (reg,) = await submit_sips(client, pool, catalog, calendar_snapshot, task_queue, 1)
        handle = await _to_issuance(client, reg)
        view = await _issue(handle)
        history = await handle.fetch_history()
    first, second = lost.results
    assert first == second  # the same number, dates and PDF bytes
    assert view.permit_number == first.number
    assert await pool.fetchval("SELECT count(*) FROM permits") == 1
    assert await pool.fetchval("SELECT sum(last_value) FROM permit_counters") == 1
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled.count("issue_permit") == 1  # one activity, retried by the server
    assert "number_permit" not in scheduled and "render_permit" not in scheduled
