"""Fault tests: the worker process is killed with SIGKILL in the middle of a batch of
applications and started again; and every record activity is retried after its
transaction committed (what a worker dying between the commit and its answer leaves
behind). Every application finishes; no task row or audit event is lost or duplicated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.channels import ChannelActivities
from activities.notify import NotifyActivities
from activities.permits import PermitActivities
from activities.records import RecordActivities
from loket.calendar import CalendarSnapshot
from loket.files import file_store
from loket.route.loader import Catalog
from loket.settings import get_settings
from loket.store.chain import check_chain
from tests.support import eventually, refusal_code
from tests.workflow.support import submit_sips
from worker import channel_config, workflow_runner
from workflows.messages import Actor, ApplicationView, DecisionRequest, RecordBatch
from workflows.permit import PermitWorkflow

pytestmark = [pytest.mark.devserver, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
APPLICATIONS = 24
ROUTE = [
    ("registration", Actor(username="rina", role="staff", counters=("dpmptsp/front_office",))),
    (
        "health_verification",
        Actor(username="hana", role="staff", counters=("dinkes/health_licensing",)),
    ),
    ("issuance", Actor(username="gita", role="staff", counters=("dpmptsp/issuance",))),
]


def start_worker(address: str, dsn: str, task_queue: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "LOKET_TEMPORAL_ADDRESS": address,
        "LOKET_TEMPORAL_TASK_QUEUE": task_queue,
    }
    return subprocess.Popen([sys.executable, str(ROOT / "worker.py")], env=env, cwd=ROOT)


async def decide_with_retry(
    handle: WorkflowHandle[object, ApplicationView], step: str, actor: Actor
) -> None:
    """A client retries a decision with the same update id until it is answered."""
    request = DecisionRequest(step_id=step, outcome="approve", actor=actor)
    while True:
        try:
            await handle.execute_update(
                "decide",
                request,
                id=f"decide:{step}:1:{actor.username}",
                result_type=ApplicationView,
            )
            return
        except RPCError:
            await asyncio.sleep(0.2)  # the server timed the call out while no worker ran


async def drive(client: Client, reg: str) -> None:
    handle = client.get_workflow_handle(reg, result_type=ApplicationView)
    for step, actor in ROUTE:
        # Wait until the step is open (the previous decision's row may still be written).
        while True:
            try:
                await decide_with_retry(handle, step, actor)
                break
            except WorkflowUpdateFailedError as exc:
                if refusal_code(exc) not in ("step_not_open", "not_registered"):
                    raise
                await asyncio.sleep(0.1)


@pytest.mark.timeout(240)
async def test_worker_killed_mid_batch_loses_and_duplicates_nothing(
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    db_dsn: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_dev_env.client
    address = client.service_client.config.target_host
    worker = start_worker(address, db_dsn, task_queue)
    try:
        regs = await submit_sips(client, pool, catalog, calendar_snapshot, task_queue, APPLICATIONS)
        drivers = [asyncio.create_task(drive(client, reg)) for reg in regs]

        async def decided() -> int:
            return int(await pool.fetchval("SELECT count(*) FROM tasks WHERE state = 'done'"))

        # Kill once a part of the batch has moved on, while the rest is in flight.
        await eventually(decided, lambda n: n >= APPLICATIONS, within_s=60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        await asyncio.sleep(1.0)
        worker = start_worker(address, db_dsn, task_queue)

        await asyncio.wait_for(asyncio.gather(*drivers), timeout=150)
        for reg in regs:
            result = await client.get_workflow_handle(reg, result_type=ApplicationView).result()
            assert result.status == "approved"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()

    rows = await pool.fetch(
        "SELECT registration_number, count(*) AS n, count(DISTINCT step_id) AS steps,"
        " bool_and(state = 'done') AS done FROM tasks GROUP BY registration_number"
    )
    assert len(rows) == APPLICATIONS
    assert all(r["n"] == 3 and r["steps"] == 3 and r["done"] for r in rows)
    audit = await pool.fetch(
        "SELECT registration_number, count(*) AS n, max(seq) AS last FROM audit_events"
        " GROUP BY registration_number"
    )
    # Sequence numbers are contiguous from 1: nothing lost, nothing written twice.
    assert all(r["n"] == r["last"] for r in audit) and len(audit) == APPLICATIONS
    statuses = await pool.fetch("SELECT DISTINCT status FROM applications")
    assert [r["status"] for r in statuses] == ["approved"]


class AnswerLostAfterCommit:
    """The real record activity, except that each batch's first attempt reports a failure
    after its transaction committed: Temporal retries the very same batch, as it does when
    a worker dies between the commit and its answer. Every attempt's result is kept."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._records = RecordActivities(pool)
        self.attempts: dict[tuple[str, int], list[tuple[int, bool]]] = {}

    @activity.defn(name="record_transition")
    async def record_transition(self, batch: RecordBatch) -> bool:
        written = await self._records.record_transition(batch)
        key = (batch.application.registration_number, batch.audit[-1].seq if batch.audit else 0)
        attempt = activity.info().attempt
        self.attempts.setdefault(key, []).append((attempt, written))
        if attempt == 1:
            raise RuntimeError("the worker lost its answer after the commit")
        return written


RETRIED_APPLICATIONS = 4


@pytest.mark.timeout(120)
async def test_a_batch_retried_after_its_commit_writes_nothing_twice(
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_dev_env.client
    records = AnswerLostAfterCommit(pool)
    async with httpx.AsyncClient() as http:
        notify = NotifyActivities(pool, "", http)
        channels = ChannelActivities(pool, channel_config(), http)
        issue = PermitActivities(pool, file_store(get_settings()), get_settings().public_base_url)
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[PermitWorkflow],
            activities=[
                records.record_transition,
                notify.deliver_notification,
                issue.issue_permit,
                channels.deliver_email,
                channels.deliver_phone,
            ],
            workflow_runner=workflow_runner(),
        )
        async with worker:
            regs = await submit_sips(
                client, pool, catalog, calendar_snapshot, task_queue, RETRIED_APPLICATIONS
            )
            await asyncio.wait_for(asyncio.gather(*(drive(client, reg) for reg in regs)), 90)
            anchors = {}
            for reg in regs:
                handle = client.get_workflow_handle(reg, result_type=ApplicationView)
                assert (await handle.result()).status == "approved"
                anchors[reg] = await handle.query("audit_chain", result_type=list[str])

    # Each batch: written by its first attempt, found written (and left alone) by the retry.
    assert {reg for reg, _ in records.attempts} == set(regs)
    assert all(tries == [(1, True), (2, False)] for tries in records.attempts.values()), (
        records.attempts
    )
    rows = await pool.fetch(
        "SELECT registration_number, count(*) AS n, count(DISTINCT step_id) AS steps,"
        " bool_and(state = 'done') AS done FROM tasks GROUP BY registration_number"
    )
    assert sorted(r["registration_number"] for r in rows) == sorted(regs)
    assert all(r["n"] == 3 and r["steps"] == 3 and r["done"] for r in rows)
    audit = await pool.fetch(
        "SELECT registration_number, array_agg(seq ORDER BY seq) AS seqs FROM audit_events"
        " GROUP BY registration_number"
    )
    assert {r["registration_number"]: list(r["seqs"]) for r in audit} == {
        reg: list(range(1, len(anchor) + 1)) for reg, anchor in anchors.items()
    }
    for reg, anchor in anchors.items():
        async with pool.acquire() as conn:
            report = await check_chain(conn, reg, anchor)
        assert report.anchored and report.intact, (reg, report)
    outbox = await pool.fetchval("SELECT count(*) - count(DISTINCT key) FROM notification_outbox")
    assert outbox == 0
    print(
        f"\nretried after commit: {len(records.attempts)} batches of {len(regs)} applications,"
        f" each retried once and found written; task rows {sum(r['n'] for r in rows)},"
        f" audit rows {sum(len(r['seqs']) for r in audit)}"
    )
