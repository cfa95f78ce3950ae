"""Liveness and readiness: the ops servers of the worker and the API, the public /healthz,
and what each answers when PostgreSQL or Temporal is not there (reason codes, 503)."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket.api import ops
from loket.compose import create_app
from loket.store.db import create_pool
from tests.api.harness import api_settings
from tests.ops.conftest import OpsStack
from tests.support import eventually
from worker import build_worker, polling_check


async def _get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def test_worker_and_api_are_live_and_ready(ops_stack: OpsStack) -> None:
    for base in (ops_stack.worker_ops, ops_stack.api_ops):
        live = await _get(f"{base}/livez")
        assert live.status_code == 200 and live.json() == {"status": "ok"}
    worker = await _get(f"{ops_stack.worker_ops}/readyz")
    assert worker.status_code == 200
    assert worker.json() == {
        "status": "ok",
        "checks": {"postgresql": "ok", "temporal": "ok", "worker": "ok"},
    }
    api = await _get(f"{ops_stack.api_ops}/readyz")
    assert api.status_code == 200
    assert api.json()["checks"] == {"postgresql": "ok", "temporal": "ok"}
    public = await ops_stack.api.http.get("/healthz")
    assert public.status_code == 200
    assert public.json()["checks"] == {"postgresql": "ok", "temporal": "ok"}


async def test_a_stopped_worker_closes_its_ops_port(ops_stack: OpsStack) -> None:
    ops_stack.stop.set()  # the ops server stops after the worker has drained
    await asyncio.wait_for(ops_stack.worker_task, 30)
    with pytest.raises(httpx.ConnectError):
        await _get(f"{ops_stack.worker_ops}/livez")


async def test_an_unreachable_temporal_makes_the_api_unready(db_dsn: str, task_queue: str) -> None:
    nowhere = await Client.connect(f"127.0.0.1:{services.free_port()}", lazy=True)
    app = create_app(api_settings(task_queue), db_dsn, client=nowhere)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://loket.test") as http:
            r = await http.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"postgresql": "ok", "temporal": "unreachable"}
    assert body["permit_types"] >= 3


async def test_postgresql_checks_answer_timeout_and_unreachable(db_dsn: str) -> None:
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    held = await pool.acquire()  # the only connection is busy: acquiring waits
    try:
        assert await ops.postgres_check(pool, 0.2)() == ops.TIMEOUT
    finally:
        await pool.release(held)
    assert await ops.postgres_check(pool, 2.0)() is None
    await pool.close()
    assert await ops.postgres_check(pool, 2.0)() == ops.UNREACHABLE


async def test_readyz_is_503_with_the_failing_checks() -> None:
    async def down() -> str | None:
        return ops.UNREACHABLE

    async def up() -> str | None:
        return None

    port = services.free_port()
    async with ops.ops_server("127.0.0.1", port, {"postgresql": up, "temporal": down}):
        r = await _get(f"http://127.0.0.1:{port}/readyz")
    assert r.status_code == 503
    assert r.json() == {
        "status": "unavailable",
        "checks": {"postgresql": "ok", "temporal": "unreachable"},
    }


async def test_ops_server_off_at_port_zero_and_refuses_a_taken_port() -> None:
    async with ops.ops_server("127.0.0.1", 0, {}) as server:
        assert server is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError):
            async with ops.ops_server("127.0.0.1", port, {}):
                pass


async def test_a_worker_not_polling_is_not_ready_and_shuts_down_gracefully(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    pool = await create_pool(db_dsn)
    try:
        worker = build_worker(temporal_ts_env.client, pool, task_queue, graceful_shutdown_s=45)
        assert await polling_check(worker)() == ops.NOT_POLLING
        assert worker.config()["graceful_shutdown_timeout"] == timedelta(seconds=45)
        async with worker:  # it starts polling in a task of its own
            assert await eventually(polling_check(worker), lambda r: r is None) is None
        assert await polling_check(worker)() == ops.NOT_POLLING
    finally:
        await pool.close()
