"""Shared fixtures: real PostgreSQL and real Temporal servers, never mocks.

Session-scoped (started once, on first use):
  pg_dsn             a PostgreSQL server: DATABASE_URL when set, else pgserver in a temp dir.
                     The DSN names a maintenance database; create your own databases in it.
  temporal_dev_env   the Temporal CLI dev server (in memory, headless) with Loket's search
                     attributes, pydantic data converter.
  temporal_ts_env    the time-skipping test server, pydantic data converter, Loket's search
                     attributes registered (upsert/describe work; listing and visibility
                     queries are not implemented by that server).
  Both Temporal servers are shared: workflows (and the time-skipping clock) outlive a
  test. A workflow left running with no worker also holds back automatic time skipping;
  a test that leaves workflows running or moves the clock far should take
  temporal_ts_env_fresh instead.
Function-scoped:
  temporal_ts_env_fresh  a time-skipping server of the test's own (starts in ~0.3 s).
  db_dsn             a fresh, migrated database per test (copied from a template migrated
                     once per session), dropped afterwards. Its registration counters start
                     at a block of its own, so workflow IDs never repeat within a session.
  task_queue         a unique task queue name per test.

Async fixtures and tests share the session event loop (see pyproject.toml).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket import metrics
from loket.temporal_codec import DATA_CONVERTER
from tests import ast_guard

ast_guard.install()  # before any worker thread exists; why: tests/ast_guard.py

# Files a test's worker stores (issued permits' PDFs) go to a folder of this run, never to
# the repository's data/: workers built without settings read it from the environment.
os.environ.setdefault(
    "LOKET_FILE_STORE_URL",
    f"file://{Path(tempfile.gettempdir()) / f'loket-test-files-{os.getpid()}'}",
)


@pytest.fixture(scope="session", autouse=True)
def _gc_watch_ends_with_the_session() -> Iterator[None]:
    """Workers register the GC pause callback for the life of their process; the suite's
    process outlives its captured streams, where the callback's warnings would go."""
    yield
    metrics.unwatch_gc()


@pytest.fixture(scope="session")
def session_dir() -> Iterator[Path]:
    """A temp folder for session-wide servers. Not pytest's tmp_path: a second pytest run
    on the machine prunes older runs' folders, the database under it included."""
    path = Path(tempfile.mkdtemp(prefix="loket-test-servers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


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
        await _seed_officials(dsn)
        yield name
    finally:
        await services.drop_database(pg_dsn, name)


async def _seed_officials(dsn: str) -> None:
    """Signing officials of the development seed: issuing a permit needs one on file."""
    from loket.officials import load_officials
    from loket.store.permits import seed_officials

    conn = await asyncpg.connect(dsn)
    try:
        await seed_officials(
            conn, load_officials(Path(__file__).resolve().parents[1] / "definitions")
        )
    finally:
        await conn.close()


# Workflow IDs are registration numbers, and a Temporal server lives for the whole session
# while each test has a fresh database: each test database numbers from its own block.
_NUMBER_BLOCKS = itertools.count(1)
_NUMBERS_PER_TEST = 1000


async def _reserve_registration_numbers(dsn: str) -> None:
    from loket.route.loader import load_catalog

    base = next(_NUMBER_BLOCKS) * _NUMBERS_PER_TEST
    catalog = load_catalog(Path(__file__).resolve().parents[1] / "definitions")
    permits = [*catalog.permits, *catalog.complaints]  # complaint numbers are workflow ids too
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            "INSERT INTO registration_counters (permit_type, year, last_value) VALUES ($1, $2, $3)",
            [(p, y, base) for p in permits for y in range(2025, 2031)],
        )
    finally:
        await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def db_dsn(pg_dsn: str, migrated_template: str) -> AsyncIterator[str]:
    name = f"loket_test_{uuid.uuid4().hex[:12]}"
    dsn = await services.create_database(pg_dsn, name, template=migrated_template)
    await _reserve_registration_numbers(dsn)
    try:
        yield dsn
    finally:
        await services.drop_database(pg_dsn, name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(services.temporal_cli_path()),
        dev_server_extra_args=services.search_attribute_args(),
        data_converter=DATA_CONVERTER,
    )
    async with env:
        yield env


async def _start_time_skipping() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(services.temporal_test_server_path()),
        data_converter=DATA_CONVERTER,
    )
    # Accepted by the test server (start/upsert/describe work); it cannot list them.
    await services.register_search_attributes(env.client, env.client.namespace)
    return env


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_ts_env() -> AsyncIterator[WorkflowEnvironment]:
    async with await _start_time_skipping() as env:
        yield env


@pytest_asyncio.fixture(loop_scope="session")
async def temporal_ts_env_fresh() -> AsyncIterator[WorkflowEnvironment]:
    async with await _start_time_skipping() as env:
        yield env


@pytest.fixture
def task_queue() -> str:
    return f"loket-test-{uuid.uuid4()}"
