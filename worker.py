"""The Loket worker: one task queue, the generic permit workflow and the I/O activities.

Run it with ``loket worker`` (or ``python worker.py``); ``loket dev`` runs it in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import py_compile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows.permit
from activities.channels import ChannelActivities, ChannelConfig
from activities.dispatcher import DispatcherConfig, OutboxDispatcher
from activities.notify import NotifyActivities
from activities.permits import PermitActivities
from activities.records import RecordActivities
from loket import metrics
from loket.api import ops
from loket.files import file_store
from loket.notify.templates import links_base, load_templates
from loket.notify.transports import GatewayConfig, SmtpConfig
from loket.settings import PROJECT_ROOT, Settings, get_settings
from loket.store import gauges
from loket.store.db import create_pool
from loket.temporal import connect, connect_config
from workflows.permit import PermitWorkflow

# connect and connect_config live in loket.temporal (the API connects too); kept here by name.
__all__ = ["build_worker", "connect", "connect_config", "run_worker", "workflow_runner"]

log = logging.getLogger("loket.worker")

# The routing core, its models and CEL are pure and deterministic: import them once,
# outside the sandbox, instead of re-importing them for every workflow (ARCHITECTURE.md).
PASSTHROUGH = (
    "loket",
    "workflows.messages",
    "workflows.shell",
    "workflows.issuance",
    "workflows.notices",
    "pydantic",
    "pydantic_core",
    "cel",
    "annotated_types",
)


def ensure_workflow_bytecode() -> None:
    """Compile the workflow module's bytecode once, here.

    The sandbox imports ``workflows.permit`` afresh for every new workflow; without a
    ``.pyc`` (PYTHONDONTWRITEBYTECODE is common in containers and CI) that means compiling
    its source each time, measured at an eighth of the worker's CPU in an escalation
    storm. An image compiles it at build time (Dockerfile: compileall) and runs on a
    read-only file system: an up-to-date ``.pyc`` is left alone.
    """
    source = Path(workflows.permit.__file__)
    cached = Path(importlib.util.cache_from_source(str(source)))
    with contextlib.suppress(OSError):
        if cached.stat().st_mtime >= source.stat().st_mtime:
            return
    try:
        py_compile.compile(str(source), cfile=str(cached), doraise=True)
    except (OSError, py_compile.PyCompileError) as exc:
        log.warning("cannot cache bytecode of %s: %s", source, exc)


def workflow_runner(*, sandboxed: bool = False) -> WorkflowRunner:
    """Workflow code runs unsandboxed unless ``sandboxed``.

    The sandbox guards determinism by re-importing the workflow's modules for each case
    and proxying every call into them: measured at a third of the worker's CPU and most of
    its memory per cached case (bench/README.md, issue 13). Workflow code here imports only
    the pure case core, so the guard moves to the tests: the whole replay corpus replays
    under the sandbox too (tests/workflow/test_replay.py), and ``LOKET_WORKFLOW_SANDBOX``
    turns it back on for a worker.
    """
    if not sandboxed:
        return UnsandboxedWorkflowRunner()
    ensure_workflow_bytecode()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


def channel_config(settings: Settings | None = None) -> ChannelConfig:
    """The applicant channels from settings; without settings, record only (tests, bench)."""
    if settings is None:
        return ChannelConfig(
            load_templates(PROJECT_ROOT / "definitions"), SmtpConfig(), GatewayConfig(), ""
        )
    return ChannelConfig(
        templates=load_templates(settings.definitions_dir),
        smtp=SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value(),
            starttls=settings.smtp_starttls,
            timeout_s=settings.notify_claim_lease_s / 4,
        ),
        gateway=GatewayConfig(
            url=settings.gateway_url,
            token=settings.gateway_token.get_secret_value(),
            timeout_s=settings.notify_claim_lease_s / 4,
        ),
        base_url=links_base(settings.public_url, settings.api_host, settings.api_port),
        lease_s=settings.notify_claim_lease_s,
    )


class LoketWorker(Worker):
    """A Temporal worker with the outbox dispatcher beside it: both run while it runs
    (``run()`` or ``async with``) and stop with it."""

    def __init__(self, *args: Any, dispatcher: OutboxDispatcher, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dispatcher = dispatcher

    async def run(self) -> None:
        dispatching = asyncio.create_task(self.dispatcher.run())
        try:
            await super().run()
        finally:
            dispatching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatching


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    task_queue: str,
    *,
    max_concurrent_activities: int = 50,
    webhook_url: str = "",
    http: httpx.AsyncClient | None = None,
    extra_activities: Sequence[Callable[..., Any]] = (),
    graceful_shutdown_s: float = 0.0,
    settings: Settings | None = None,
    channels: ChannelConfig | None = None,
    dispatcher: DispatcherConfig | None = None,
    sandboxed: bool | None = None,
    **tuning: Any,
) -> LoketWorker:
    """``tuning``: further ``temporalio.worker.Worker`` options (cache and slot sizes, the
    benchmarks' knobs)."""
    metrics.watch_gc()
    records = RecordActivities(pool)
    http = http or httpx.AsyncClient()
    notify = NotifyActivities(pool, webhook_url, http)
    settings = settings or get_settings()
    sandboxed = settings.workflow_sandbox if sandboxed is None else sandboxed
    permits = PermitActivities(pool, file_store(settings), settings.public_base_url)
    channels = channels or channel_config()
    channel = ChannelActivities(pool, channels, http)
    # The outbox lease follows the channel claim's (the longest delivery: half of it).
    dispatcher = dispatcher or DispatcherConfig(lease_s=max(channels.lease_s, 15.0))
    return LoketWorker(
        client,
        task_queue=task_queue,
        workflows=[PermitWorkflow],
        activities=[
            records.record_transition,
            permits.issue_permit,
            permits.number_permit,
            permits.render_permit,
            # Delivery activities stay registered for workflows started before the outbox
            # dispatcher; new ones never schedule them.
            notify.deliver_notification,
            channel.deliver_email,
            channel.deliver_phone,
            *extra_activities,
        ],
        workflow_runner=workflow_runner(sandboxed=sandboxed),
        max_concurrent_activities=max_concurrent_activities,
        # On shutdown, in-flight activities get this long before they are cancelled.
        graceful_shutdown_timeout=timedelta(seconds=graceful_shutdown_s),
        dispatcher=OutboxDispatcher(pool, notify, channel, dispatcher),
        **tuning,
    )


async def refresh_gauges(pool: asyncpg.Pool, every_s: float) -> None:
    """Keep the read-model gauges current until cancelled."""
    while True:
        try:
            async with pool.acquire() as conn:
                metrics.set_steps_overdue(
                    await gauges.steps_overdue_by_agency(conn, datetime.now(UTC))
                )
                metrics.set_outbox_backlog(await gauges.outbox_backlog_by_kind(conn))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("gauges not refreshed: %s", exc)
        await asyncio.sleep(every_s)


def polling_check(worker: Worker) -> ops.Check:
    async def check() -> str | None:
        return None if worker.is_running and not worker.is_shutdown else ops.NOT_POLLING

    return check


async def run_worker(settings: Settings, dsn: str, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; then let in-flight activities finish (up to
    ``worker_graceful_shutdown_s``) and return. Serves the ops endpoints on ``ops_port``."""
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
                graceful_shutdown_s=settings.worker_graceful_shutdown_s,
                settings=settings,
                channels=channel_config(settings),
            )
            checks = {
                "postgresql": ops.postgres_check(pool, settings.ready_timeout_s),
                "temporal": ops.temporal_check(client, settings.ready_timeout_s),
                "worker": polling_check(worker),
            }
            # The ops server outlives the worker: /readyz says not_polling while it drains.
            async with (
                ops.ops_server(
                    settings.ops_host, settings.ops_port, checks, settings.codec_cors_origins
                ),
                worker,
            ):
                # The read-model gauges matter only where /metrics is served.
                gauges = (
                    asyncio.create_task(refresh_gauges(pool, settings.gauges_refresh_s))
                    if settings.ops_port
                    else None
                )
                log.info("worker polling task queue %r", settings.temporal_task_queue)
                try:
                    await stop.wait()
                finally:
                    if gauges is not None:
                        gauges.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await gauges
                log.info(
                    "worker stopping: in-flight activities get %.0fs",
                    settings.worker_graceful_shutdown_s,
                )
    finally:
        await pool.close()


def main() -> None:
    import signal

    from loket import logs
    from loket.settings import get_settings
    from loket.store.migrate import migrate

    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set; `loket dev` runs the embedded stack instead")

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
