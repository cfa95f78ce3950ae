"""Fault test: the worker process is killed with SIGKILL while permits are being numbered
and started again. Twenty applications reach the issuing step, their twenty issuing
decisions go out at once, the worker dies as the first numbers are taken: every permit is
issued in the end, and the numbers are exactly 1..20, none skipped, none used twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from tests.support import eventually
from tests.workflow.support import submit_sips
from tests.workflow.test_worker_crash import ROUTE, decide_with_retry, start_worker
from workflows.messages import ApplicationView

pytestmark = [pytest.mark.devserver, pytest.mark.slow]

APPLICATIONS = 20


async def to_issuance(client: Client, reg: str) -> None:
    """The steps before the issuing one, each retried until its step is open."""
    handle = client.get_workflow_handle(reg, result_type=ApplicationView)
    for step, actor in ROUTE[:-1]:
        while True:
            view = await handle.query("view", result_type=ApplicationView)
            if any(s.step_id == step for s in view.open_steps):
                break
            await asyncio.sleep(0.1)
        await decide_with_retry(handle, step, actor)


async def issue(client: Client, reg: str) -> None:
    step, actor = ROUTE[-1]
    await decide_with_retry(
        client.get_workflow_handle(reg, result_type=ApplicationView), step, actor
    )


@pytest.mark.timeout(300)
async def test_worker_killed_while_numbering_skips_and_repeats_no_number(
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
        await asyncio.wait_for(asyncio.gather(*(to_issuance(client, r) for r in regs)), 120)
        assert await pool.fetchval("SELECT count(*) FROM permits") == 0

        issuing = [asyncio.create_task(issue(client, reg)) for reg in regs]
        numbered = await eventually(
            lambda: pool.fetchval("SELECT count(*) FROM permits"),
            lambda n: n >= APPLICATIONS // 4,
            every_s=0.01,
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        at_kill = await pool.fetchval("SELECT count(*) FROM permits")
        issued_at_kill = await pool.fetchval("SELECT count(*) FROM permits WHERE status = 'issued'")
        await asyncio.sleep(1.0)
        worker = start_worker(address, db_dsn, task_queue)

        await asyncio.wait_for(asyncio.gather(*issuing), timeout=200)
        numbers = {}
        for reg in regs:
            result = await client.get_workflow_handle(reg, result_type=ApplicationView).result()
            assert result.status == "approved" and result.permit_number is not None
            numbers[reg] = result.permit_number
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()

    # The kill came while numbering was under way, not before or after it.
    assert APPLICATIONS // 4 <= numbered <= at_kill and issued_at_kill < APPLICATIONS, (
        at_kill,
        issued_at_kill,
    )
    rows = await pool.fetch(
        "SELECT registration_number, number, seq, status, pdf_sha256 FROM permits"
    )
    assert sorted(r["seq"] for r in rows) == list(range(1, APPLICATIONS + 1))
    assert {r["registration_number"]: r["number"] for r in rows} == numbers
    assert len(set(numbers.values())) == APPLICATIONS
    assert all(r["status"] == "issued" and r["pdf_sha256"] for r in rows)
    assert await pool.fetchval("SELECT last_value FROM permit_counters") == APPLICATIONS
    # One permit_issued audit entry per application, naming its row's number and PDF.
    audit = await pool.fetch(
        "SELECT registration_number, details FROM audit_events WHERE event = 'permit_issued'"
    )
    assert sorted(a["registration_number"] for a in audit) == sorted(regs)
    by_reg = {r["registration_number"]: r for r in rows}
    for a in audit:
        row = by_reg[a["registration_number"]]
        assert a["details"]["permit_number"] == row["number"]
        assert a["details"]["pdf_sha256"] == row["pdf_sha256"]
    print(
        f"\nkilled with {at_kill} of {APPLICATIONS} numbered ({issued_at_kill} issued);"
        f" after the restart numbers 1..{APPLICATIONS}, each once"
    )
