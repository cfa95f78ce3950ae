"""The Loket worker: one task queue, the generic permit workflow and the I/O activities.

Run it with ``loket worker`` (or ``python worker.py``); ``loket dev`` runs it in-process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import py_compile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows.permit
from activities.notify import NotifyActivities
from activities.records import RecordActivities
from loket.settings import Settings
from loket.store.db import create_pool
from workflows.permit import PermitWorkflow

log = logging.getLogger("loket.worker")

# The routing core, its models and CEL are pure and deterministic: import them once,
# outside the sandbox, instead of re-importing them for every workflow (ARCHITECTURE.md).
PASSTHROUGH = ("loket", "workflows.messages", "pydantic", "pydantic_core", "cel", "annotated_types")


def ensure_workflow_bytecode() -> None:
    """Compile the workflow module's bytecode once, here.

    The sandbox imports ``workflows.permit`` afresh for every new workflow; without a
    ``.pyc`` (PYTHONDONTWRITEBYTECODE is common in containers and CI) that means compiling
    its source each time, measured at an eighth of the worker's CPU in an escalation
    storm. A read-only install simply keeps doing that.
    """
    source = Path(workflows.permit.__file__)
    try:
        py_compile.compile(
            str(source), cfile=importlib.util.cache_from_source(str(source)), doraise=True
        )
    except (OSError, py_compile.PyCompileError) as exc:
        log.warning("cannot cache bytecode of %s: %s", source, exc)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    task_queue: str,
    *,
    max_concurrent_activities: int = 50,
    webhook_url: str = "",
    http: httpx.AsyncClient | None = None,
    extra_activities: Sequence[Callable[..., Any]] = (),
) -> Worker:
    ensure_workflow_bytecode()
    records = RecordActivities(pool)
    notify = NotifyActivities(pool, webhook_url, http or httpx.AsyncClient())
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[PermitWorkflow],
        activities=[records.record_transition, notify.deliver_notification, *extra_activities],
        workflow_runner=workflow_runner(),
        max_concurrent_activities=max_concurrent_activities,
    )


async def connect(settings: Settings) -> Client:
    from temporalio.contrib.pydantic import pydantic_data_converter

    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


async def run_worker(settings: Settings, dsn: str, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; then finish in-flight tasks and return."""
    client = await connect(settings)
    pool = await create_pool(dsn)
    try:
        async with httpx.AsyncClient() as http:
            worker = build_worker(
                client,
                pool,
                settings.temporal_task_queue,
                webhook_url=settings.webhook_url,
                http=http,
            )
            async with worker:
                log.info("worker polling task queue %r", settings.temporal_task_queue)
                await stop.wait()
    finally:
        await pool.close()


def main() -> None:
    import signal

    from loket.settings import get_settings
    from loket.store.migrate import migrate

    settings = get_settings()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set; `loket dev` runs the embedded stack instead")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await migrate(settings.database_url)
        await run_worker(settings, settings.database_url, stop)

    asyncio.run(_run())


if __name__ == "__main__":
    main()
