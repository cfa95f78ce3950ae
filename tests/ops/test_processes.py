"""`loket worker` and `loket api` as the containers run them: real processes on the dev
server and a test database, probed on their ops ports, stopped with SIGTERM (what
`docker stop` sends), writing JSON logs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from tests.ops.conftest import status_of
from tests.support import eventually

LOKET = Path(sys.executable).parent / "loket"


@asynccontextmanager
async def loket(
    command: str, env: dict[str, str], log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(LOKET), command, env=env, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_worker_and_api_processes_answer_probes_and_stop_on_sigterm(
    temporal_dev_env: WorkflowEnvironment, db_dsn: str, task_queue: str, tmp_path: Path
) -> None:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": db_dsn,
        "LOKET_ENV": "test",
        "LOKET_TEMPORAL_ADDRESS": temporal_dev_env.client.service_client.config.target_host,
        "LOKET_TEMPORAL_TASK_QUEUE": task_queue,
        "LOKET_LOG_FORMAT": "json",
        "LOKET_WORKER_GRACEFUL_SHUTDOWN_S": "5",
    }
    worker_ops, api_ops, api_port = (services.free_port() for _ in range(3))
    worker_env = {**base, "LOKET_OPS_PORT": str(worker_ops)}
    api_env = {**base, "LOKET_OPS_PORT": str(api_ops), "LOKET_API_PORT": str(api_port)}
    worker_log, api_log = tmp_path / "worker.log", tmp_path / "api.log"
    async with (
        loket("worker", worker_env, worker_log) as worker,
        loket("api", api_env, api_log) as api,
    ):
        for port in (worker_ops, api_ops):
            await eventually(
                lambda p=port: status_of(f"http://127.0.0.1:{p}/readyz"),
                lambda code: code == 200,
                within_s=60,
            )
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{api_port}/healthz")
            assert health.status_code == 200
            scraped = (await http.get(f"http://127.0.0.1:{worker_ops}/metrics")).text
        assert "temporal_worker_start_total" in scraped  # the SDK's runtime metrics
        assert "loket_http_requests_total" in scraped
        for process in (worker, api):
            process.send_signal(signal.SIGTERM)
        codes = await asyncio.wait_for(asyncio.gather(worker.wait(), api.wait()), 60)
    assert codes[0] == 0
    assert codes[1] in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it stopped
    lines = [json.loads(line) for line in worker_log.read_text().splitlines() if line]
    messages = [line["message"] for line in lines]
    assert any(m.startswith("worker polling task queue") for m in messages)
    assert any(m.startswith("worker stopping") for m in messages)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    api_lines = [json.loads(line) for line in api_log.read_text().splitlines() if line]
    assert any(line["logger"] == "loket.http" and line["http_status"] == 200 for line in api_lines)
