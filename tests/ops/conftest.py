"""The real processes of production, in one test process: ``run_worker`` (with its ops
server) and the API app whose lifespan connects through ``worker.connect`` (the SDK's
Prometheus runtime), on the Temporal dev server and a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket.api import ops
from loket.compose import create_app
from loket.settings import Settings
from tests.api.harness import BASE_URL, Api
from tests.support import eventually
from worker import run_worker


@dataclass
class OpsStack:
    api: Api
    settings: Settings
    api_ops: str  # base URL of the API's ops server
    worker_ops: str  # base URL of the worker's ops server
    worker_task: asyncio.Task[None]
    stop: asyncio.Event


def stack_settings(temporal_address: str, task_queue: str, ops_port: int) -> Settings:
    return Settings(
        env="test",
        temporal_address=temporal_address,
        temporal_task_queue=task_queue,
        ops_port=ops_port,
        ready_timeout_s=2.0,
        # Once at the start: tests that read the gauges run their own refresh.
        gauges_refresh_s=3600,
    )


async def status_of(url: str) -> int:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(url, timeout=2)).status_code
    except httpx.HTTPError:
        return 0


@pytest_asyncio.fixture(loop_scope="session")
async def ops_stack(
    temporal_dev_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> AsyncIterator[OpsStack]:
    address = temporal_dev_env.client.service_client.config.target_host
    worker_port, api_port = services.free_port(), services.free_port()
    settings = stack_settings(address, task_queue, worker_port)
    stop = asyncio.Event()
    worker_task = asyncio.create_task(run_worker(settings, db_dsn, stop))
    app = create_app(settings, db_dsn)  # no client: the lifespan connects like production
    try:
        async with app.router.lifespan_context(app):
            checks = ops.app_checks(app, settings.ready_timeout_s)
            async with ops.ops_server("127.0.0.1", api_port, checks):
                # The worker starts beside the API: its ops server answers once it polls.
                await eventually(
                    lambda: status_of(f"http://127.0.0.1:{worker_port}/readyz"),
                    lambda code: code == 200,
                    within_s=60,
                )
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                    yield OpsStack(
                        api=Api(app, app.state.services, http),
                        settings=settings,
                        api_ops=f"http://127.0.0.1:{api_port}",
                        worker_ops=f"http://127.0.0.1:{worker_port}",
                        worker_task=worker_task,
                        stop=stop,
                    )
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(worker_task, 30)
