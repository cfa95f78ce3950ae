"""PostgreSQL goes away under load (issue 9's fault table): stopped for 30 s, then its
postmaster SIGKILLed and restarted. Every case finishes; nothing is lost or duplicated.

A PostgreSQL of this test's own (pgserver in a temp folder), so stopping it harms no other
test; the session's Temporal dev server; the worker in-process. The counts are printed
(``-s``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.settings import PROJECT_ROOT
from loket.store.chain import check_chain
from loket.store.db import create_pool
from loket.store.dev_seed import seed_from_definitions
from loket.store.migrate import migrate
from tests.support import refusal_code
from tests.workflow.support import FRONT, ISSUANCE, staff, submit_sips
from worker import build_worker
from workflows.messages import Actor, ApplicationView, DecisionRequest

pytestmark = pytest.mark.devserver

APPLICATIONS = 8
OUTAGE_S = float(os.environ.get("LOKET_TEST_OUTAGE_S", "30"))
RESTART_ATTEMPTS = 10
MAX_TRIES = 2000  # a decision's client retries; each waits at least 0.2 s
ROUTE = [
    ("registration", FRONT),
    ("health_verification", staff("nina", "dinkes/health_licensing")),
    ("issuance", ISSUANCE),
]


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


async def _start_pg(data_dir: Path) -> Any:
    from pgserver.postgres_server import get_server

    return await asyncio.to_thread(services._get_pgserver, get_server, data_dir)


async def _restart_pg(server: Any, data_dir: Path, old_pid: int) -> None:
    """Start the stopped (or killed) postmaster again on the same data folder and socket.

    Not ``get_server`` again: pgserver caches its handle per folder and would return it
    without starting anything. pgserver counts a zombie as running, so first wait until
    the old postmaster is reaped. After a SIGKILL its backends notice it is gone and exit
    within moments; until then PostgreSQL refuses to start (shared memory still in use),
    so a few bounded attempts.
    """
    for _ in range(RESTART_ATTEMPTS * 10):
        if not Path(f"/proc/{old_pid}").exists():  # reaped, not a zombie
            break
        await asyncio.sleep(0.1)
    for attempt in range(RESTART_ATTEMPTS):
        try:
            await asyncio.to_thread(server.ensure_postgres_running)
            break
        except subprocess.CalledProcessError:
            if attempt == RESTART_ATTEMPTS - 1:
                raise
            await asyncio.sleep(1)
    await services.wait_for_postgres(server.get_uri(), within_s=30)
    assert _postmaster_pid(data_dir) == server.get_pid()


async def _drive(client: Client, reg: str, step: str, actor: Actor, seen: Counter[str]) -> None:
    """A member of staff deciding, retrying with the same update id until answered."""
    handle = client.get_workflow_handle(reg, result_type=ApplicationView)
    request = DecisionRequest(step_id=step, outcome="approve", actor=actor)
    for _ in range(MAX_TRIES):
        try:
            await handle.execute_update(
                "decide", request, id=f"decide:{reg}:{step}", result_type=ApplicationView
            )
            seen["answered"] += 1
            return
        except WorkflowUpdateFailedError as exc:
            code = refusal_code(exc)
            if code not in ("step_not_open", "not_registered"):
                raise
            seen[f"refused {code}"] += 1
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
            seen[f"retried after {type(exc).__name__}"] += 1  # asked again, same id
        await asyncio.sleep(0.2)
    raise AssertionError(f"{reg} {step}: no answer after {MAX_TRIES} tries")


async def _failed_record_attempts(client: Client, regs: list[str]) -> int:
    """Record activity attempts that failed and were retried (the history keeps the last
    attempt's number on each ActivityTaskStarted event)."""
    failed = 0
    for reg in regs:
        history = await client.get_workflow_handle(reg).fetch_history()
        failed += sum(
            e.activity_task_started_event_attributes.attempt - 1
            for e in history.events
            if e.HasField("activity_task_started_event_attributes")
        )
    return failed


@pytest.mark.timeout(300)
async def test_postgres_stopped_and_killed_under_load_loses_nothing(
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_dev_env.client
    seen: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="loket-outage-") as tmp:
        data_dir = Path(tmp) / "pg"
        server = await _start_pg(data_dir)
        dsn = await services.create_database(server.get_uri(), "outage")
        await migrate(dsn)
        await seed_from_definitions(dsn, PROJECT_ROOT / "definitions")  # issuance signs
        pool = await create_pool(dsn)
        try:
            async with build_worker(client, pool, task_queue):
                regs = await submit_sips(
                    client,
                    pool,
                    catalog,
                    calendar_snapshot,
                    task_queue,
                    APPLICATIONS,
                    key_prefix=f"outage-{task_queue}",
                )
                for reg in regs:
                    await _drive(client, reg, *ROUTE[0], seen)

                # Outage 1: PostgreSQL stopped (fast shutdown) while decisions keep coming.
                stopped = _postmaster_pid(data_dir)
                os.kill(stopped, signal.SIGINT)
                second = [asyncio.create_task(_drive(client, r, *ROUTE[1], seen)) for r in regs]
                await asyncio.sleep(OUTAGE_S)
                assert not any(t.done() for t in second), "nothing can be recorded meanwhile"
                await _restart_pg(server, data_dir, stopped)
                assert _postmaster_pid(data_dir) != stopped
                await asyncio.wait_for(asyncio.gather(*second), 120)

                # Outage 2: the postmaster SIGKILLed mid-flight, then restarted at once.
                third = [asyncio.create_task(_drive(client, r, *ROUTE[2], seen)) for r in regs]
                await asyncio.sleep(0.3)
                killed = _postmaster_pid(data_dir)
                os.kill(killed, signal.SIGKILL)
                await _restart_pg(server, data_dir, killed)
                assert _postmaster_pid(data_dir) != killed
                await asyncio.wait_for(asyncio.gather(*third), 120)
                for reg in regs:
                    result = await client.get_workflow_handle(
                        reg, result_type=ApplicationView
                    ).result()
                    assert result.status == "approved"
                # The workflow's own record of its hashes (a query needs a worker).
                anchors = {
                    reg: await client.get_workflow_handle(reg).query(
                        "audit_chain", result_type=list[str]
                    )
                    for reg in regs
                }

            rows = await pool.fetch(
                "SELECT registration_number, count(*) AS n, count(DISTINCT step_id) AS steps,"
                " bool_and(state = 'done') AS done FROM tasks GROUP BY registration_number"
            )
            assert len(rows) == APPLICATIONS
            assert all(r["n"] == 3 and r["steps"] == 3 and r["done"] for r in rows)
            audit = await pool.fetch(
                "SELECT registration_number, count(*) AS n, count(DISTINCT seq) AS seqs,"
                " min(seq) AS first, max(seq) AS last FROM audit_events"
                " GROUP BY registration_number"
            )
            assert len(audit) == APPLICATIONS
            # Gap-free from 1, nothing twice.
            assert all(r["first"] == 1 and r["n"] == r["seqs"] == r["last"] for r in audit)
            intact = 0
            for reg, anchor in anchors.items():
                async with pool.acquire() as conn:
                    report = await check_chain(conn, reg, anchor)
                assert report.intact and report.anchored and report.rows == len(anchor), reg
                intact += 1
            failed = await _failed_record_attempts(client, regs)
            print(
                f"\nstore outage: {APPLICATIONS} applications, {OUTAGE_S:.0f} s stopped + SIGKILL;"
                f" decisions {dict(seen)}; record attempts failed and retried: {failed};"
                f" task rows {sum(r['n'] for r in rows)}, audit rows {sum(r['n'] for r in audit)},"
                f" chains intact {intact}/{APPLICATIONS}"
            )
            assert seen["answered"] == 3 * APPLICATIONS
            assert failed > 0  # the outages were felt by the record activity
            assert intact == APPLICATIONS
        finally:
            await pool.close()
            await asyncio.to_thread(server.cleanup)
