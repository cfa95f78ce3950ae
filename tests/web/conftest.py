"""Fixtures of the web page tests: the real app (pages included) on a fresh database and
the time-skipping server, and a cookie-keeping browser-like client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.api.harness import Api, running_api


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> AsyncIterator[Api]:
    async with running_api(temporal_ts_env.client, db_dsn, task_queue) as running:
        yield running
