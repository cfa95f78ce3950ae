"""PostgreSQL goes away under load (issue 9's fault table): stopped for 30 s, then its
postmaster SIGKILLed and restarted. Every case finishes; nothing is lost or duplicated.

A PostgreSQL of this test's own (pgserver in a temp folder), so stopping it harms no other
test; the session's Temporal dev server; the worker in-process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from pathlib import Path

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
from loket.services.submission import submit_application
from loket.store.chain import check_chain
from loket.store.db import create_pool
from loket.store.migrate import migrate
from tests.support import SIP_FORM, refusal_code
from tests.workflow.conftest import utcnow
from tests.workflow.support import FRONT, ISSUANCE, staff
from worker import build_worker
from workflows.messages import Actor, ApplicationView, DecisionRequest

pytestmark = pytest.mark.devserver

APPLICATIONS = 8
OUTAGE_S = float(os.environ.get("LOKET_TEST_OUTAGE_S", "30"))
ROUTE = [
    ("registration", FRONT),
    ("health_verification", staff("nina", "dinkes/health_licensing")),
    ("issuance", ISSUANCE),
]


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


async def _start_pg(data_dir: Path) -> object:
    from pgserver.postgres_server import get_server

    return await asyncio.to_thread(services._get_pgserver, get_server, data_dir)


async def _drive(client: Client, reg: str, step: str, actor: Actor) -> None:
    """A member of staff deciding, retrying with the same update id until answered."""
    handle = client.get_workflow_handle(reg, result_type=ApplicationView)
    request = DecisionRequest(step_id=step, outcome="approve", actor=actor)
    while True:
        try:
            await handle.execute_update(
                "decide", request, id=f"decide:{reg}:{step}", result_type=ApplicationView
            )
            return
        except WorkflowUpdateFailedError as exc:
            if refusal_code(exc) not in ("step_not_open", "not_registered"):
                raise
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError):
            pass  # the call timed out while the store was away: ask again, same id
        await asyncio.sleep(0.2)


@pytest.mark.timeout(300)
async def test_postgres_stopped_and_killed_under_load_loses_nothing(
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_dev_env.client
    with tempfile.TemporaryDirectory(prefix="loket-outage-") as tmp:
        data_dir = Path(tmp) / "pg"
        server = await _start_pg(data_dir)
        dsn = await services.create_database(server.get_uri(), "outage")  # type: ignore[attr-defined]
        await migrate(dsn)
        pool = await create_pool(dsn)
        try:
            async with build_worker(client, pool, task_queue):
                regs = []
                for i in range(APPLICATIONS):
                    submitted = await submit_application(
                        client=client,
                        pool=pool,
                        permit=catalog.permit("SIP"),
                        calendar=calendar_snapshot,
                        form=SIP_FORM,
                        task_queue=task_queue,
                        now=utcnow(),
                        idempotency_key=f"outage-{task_queue}-{i}",
                        access_code_secret=b"s",
                    )
                    regs.append(submitted.registration_number)
                for reg in regs:
                    await _drive(client, reg, *ROUTE[0])

                # Outage 1: PostgreSQL stopped (fast shutdown) while decisions keep coming.
                os.kill(_postmaster_pid(data_dir), signal.SIGINT)
                second = [asyncio.create_task(_drive(client, r, *ROUTE[1])) for r in regs]
                await asyncio.sleep(OUTAGE_S)
                assert not any(t.done() for t in second), "nothing can be recorded meanwhile"
                await _start_pg(data_dir)
                await asyncio.wait_for(asyncio.gather(*second), 120)

                # Outage 2: the postmaster SIGKILLed mid-flight, then restarted at once.
                third = [asyncio.create_task(_drive(client, r, *ROUTE[2])) for r in regs]
                await asyncio.sleep(0.3)
                os.kill(_postmaster_pid(data_dir), signal.SIGKILL)
                await asyncio.sleep(2)
                await _start_pg(data_dir)
                await asyncio.wait_for(asyncio.gather(*third), 120)
                for reg in regs:
                    result = await client.get_workflow_handle(
                        reg, result_type=ApplicationView
                    ).result()
                    assert result.status == "approved"

            rows = await pool.fetch(
                "SELECT registration_number, count(*) AS n, bool_and(state = 'done') AS done"
                " FROM tasks GROUP BY registration_number"
            )
            assert len(rows) == APPLICATIONS and all(r["n"] == 3 and r["done"] for r in rows)
            for reg in regs:
                anchor = await client.get_workflow_handle(reg).query(
                    "audit_chain", result_type=list[str]
                )
                async with pool.acquire() as conn:
                    report = await check_chain(conn, reg, anchor)
                assert report.intact and report.rows == len(anchor), reg
        finally:
            await pool.close()
            await asyncio.to_thread(server.cleanup)  # type: ignore[attr-defined]
