"""Fault test: the worker process is killed with SIGKILL in the middle of a batch of
applications and started again. Every application finishes; no task row or audit event is
lost or duplicated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.services.submission import submit_application
from tests.support import SIP_FORM, eventually, refusal_code
from tests.workflow.conftest import utcnow
from workflows.messages import Actor, ApplicationView, DecisionRequest

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
        regs = []
        for _ in range(APPLICATIONS):
            submitted = await submit_application(
                client=client,
                pool=pool,
                permit=catalog.permit("SIP"),
                calendar=calendar_snapshot,
                form=SIP_FORM,
                task_queue=task_queue,
                now=utcnow(),
            )
            regs.append(submitted.registration_number)
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
