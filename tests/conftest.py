"""Shared fixtures: real PostgreSQL and real Temporal servers, never mocks.

Session-scoped (started once, on first use):
  pg_dsn             a PostgreSQL server: DATABASE_URL when set, else pgserver in a temp dir.
                     The DSN names a maintenance database; create your own databases in it.
  temporal_dev_env   the Temporal CLI dev server (in memory, headless) with Loket's search
                     attributes, pydantic data converter.
  temporal_ts_env    the time-skipping test server, pydantic data converter, Loket's search
                     attributes registered (upsert/describe work; listing and visibility
                     queries are not implemented by that server).
Function-scoped:
  db_dsn             a fresh, migrated database per test (copied from a template migrated
                     once per session), dropped afterwards.
  task_queue         a unique task queue name per test.

Async fixtures and tests share the session event loop (see pyproject.toml).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from loket import services


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temp folder for session-wide servers."""
    return tmp_path_factory.mktemp("servers")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_dsn(session_dir: Path) -> AsyncIterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        await services.wait_for_postgres(external, within_s=10)
        yield external
        return
    async with services.embedded_postgres(session_dir / "postgresql") as dsn:
        yield dsn


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def migrated_template(pg_dsn: str) -> AsyncIterator[str]:
    """Name of a database migrated once per session; ``db_dsn`` copies it per test."""
    from loket.store.migrate import migrate

    name = f"loket_template_{uuid.uuid4().hex[:10]}"
    dsn = await services.create_database(pg_dsn, name)
    try:
        await migrate(dsn)
        yield name
    finally:
        await services.drop_database(pg_dsn, name)


@pytest_asyncio.fixture(loop_scope="session")
async def db_dsn(pg_dsn: str, migrated_template: str) -> AsyncIterator[str]:
    name = f"loket_test_{uuid.uuid4().hex[:12]}"
    dsn = await services.create_database(pg_dsn, name, template=migrated_template)
    try:
        yield dsn
    finally:
        await services.drop_database(pg_dsn, name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(services.temporal_cli_path()),
        dev_server_extra_args=services.search_attribute_args(),
        data_converter=pydantic_data_converter,
    )
    async with env:
        yield env


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(services.temporal_test_server_path()),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await services.register_search_attributes(env.client, env.client.namespace)
        yield env


@pytest.fixture
def task_queue() -> str:
    return f"loket-test-{uuid.uuid4()}"
