"""The embedded services and ``loket dev``, started for real."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket import search_attributes

REPO_ROOT = Path(__file__).resolve().parents[1]
LOKET = Path(sys.executable).parent / "loket"
STACK_START_S = 90.0
STACK_STOP_S = 45.0


def test_binaries_come_from_the_pinned_wheels() -> None:
    cli = services.temporal_cli_path()
    test_server = services.temporal_test_server_path()
    assert cli.name == "temporal"
    assert test_server.name == "temporal-test-server"
    assert os.access(cli, os.X_OK)
    assert os.access(test_server, os.X_OK)
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True)
    assert "1.9.1" in version.stdout


def test_dev_server_args() -> None:
    args = services.dev_server_args(Path("/data/t.sqlite"), 8233)
    joined = " ".join(args)
    assert "--db-filename /data/t.sqlite" in joined
    assert "--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal" in joined
    assert "--ui-port 8233" in joined
    assert "--headless" not in args
    for name, type_name in search_attributes.CLI_TYPES.items():
        assert f"--search-attribute {name}={type_name}" in joined
    in_memory = services.dev_server_args(None, None, namespaces=["loket"])
    assert "--db-filename" not in in_memory
    assert "--headless" in in_memory
    assert "--namespace loket" in " ".join(in_memory)


def test_cli_types_match_the_keys() -> None:
    type_names = {
        IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
        IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
        IndexedValueType.INDEXED_VALUE_TYPE_INT: "Int",
        IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
        IndexedValueType.INDEXED_VALUE_TYPE_TEXT: "Text",
        IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE: "Double",
        IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    }
    assert {
        key.name: type_names[IndexedValueType.ValueType(key.indexed_value_type)]
        for key in search_attributes.ALL
    } == dict(search_attributes.CLI_TYPES)


def test_dsn_with_database() -> None:
    socket_dsn = "postgresql://postgres:@/postgres?host=/tmp/pg"
    assert services.dsn_with_database(socket_dsn, "x") == "postgresql://postgres:@/x?host=/tmp/pg"
    tcp = "postgresql://u:p@db:5432/loket?sslmode=require"
    assert services.dsn_with_database(tcp, "t") == "postgresql://u:p@db:5432/t?sslmode=require"


# --------------------------------------------------------------------------- PostgreSQL


async def test_embedded_postgres_keeps_data_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "pg"
    async with services.embedded_postgres(data) as dsn:
        connection = await asyncpg.connect(dsn)
        await connection.execute("CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)")
        await connection.close()
    async with services.embedded_postgres(data) as dsn:
        connection = await asyncpg.connect(dsn)
        assert await connection.fetchval("SELECT id FROM kept") == 42
        await connection.close()
    # Stopped on exit: the socket is gone.
    assert not list(data.glob(".s.PGSQL.*"))


async def test_create_database_from_template(pg_dsn: str) -> None:
    template = f"tpl_{uuid.uuid4().hex[:8]}"
    copy = f"copy_{uuid.uuid4().hex[:8]}"
    template_dsn = await services.create_database(pg_dsn, template)
    connection = await asyncpg.connect(template_dsn)
    await connection.execute("CREATE TABLE t (v text); INSERT INTO t VALUES ('from template')")
    await connection.close()
    copy_dsn = await services.create_database(pg_dsn, copy, template=template)
    connection = await asyncpg.connect(copy_dsn)
    try:
        assert await connection.fetchval("SELECT current_database()") == copy
        assert await connection.fetchval("SELECT v FROM t") == "from template"
    finally:
        await connection.close()
    await services.drop_database(pg_dsn, copy)
    await services.drop_database(pg_dsn, template)
    connection = await asyncpg.connect(pg_dsn)
    try:
        names = await connection.fetch("SELECT datname FROM pg_database")
    finally:
        await connection.close()
    assert not {template, copy} & {row["datname"] for row in names}


@pytest.mark.skipif(
    importlib.util.find_spec("loket.store.migrate") is None,
    reason="loket.store.migrate not written yet",
)
async def test_db_dsn_is_a_fresh_migrated_database(db_dsn: str, pg_dsn: str) -> None:
    connection = await asyncpg.connect(db_dsn)
    try:
        name = await connection.fetchval("SELECT current_database()")
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    assert name.startswith("loket_test_")
    assert tables > 0


# --------------------------------------------------------------------------- Temporal


async def _search_attribute_types(client: Client, namespace: str) -> dict[str, int]:
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(response.custom_attributes)


def _expected_types() -> dict[str, int]:
    return {key.name: int(key.indexed_value_type) for key in search_attributes.ALL}


async def test_dev_server_registers_search_attributes_and_keeps_workflows(
    tmp_path: Path,
) -> None:
    port = services.free_port()
    workflow_id = f"PBG-TEST-{uuid.uuid4().hex[:8]}"
    async with services.temporal_dev_server(
        tmp_path, port=port, ui_port=None, namespace="loket"
    ) as address:
        assert (tmp_path / services.DEV_SERVER_DB_NAME).is_file()
        assert (tmp_path / services.DEV_SERVER_PID_NAME).is_file()
        client = await Client.connect(address, namespace="loket")
        types = await _search_attribute_types(client, "loket")
        assert {name: types.get(name) for name in _expected_types()} == _expected_types()
        assert await services.missing_search_attributes(client, "loket") == []
        # No worker: the execution just waits for its first workflow task.
        await client.start_workflow(
            "NoSuchWorkflow",
            id=workflow_id,
            task_queue="nobody-polls",
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(search_attributes.PERMIT_TYPE, "PBG")]
            ),
        )
    assert not services.port_in_use("127.0.0.1", port)
    assert not (tmp_path / services.DEV_SERVER_PID_NAME).exists()

    async with services.temporal_dev_server(
        tmp_path, port=port, ui_port=None, namespace="loket"
    ) as address:
        client = await Client.connect(address, namespace="loket")
        description = await client.get_workflow_handle(workflow_id).describe()
        assert description.status == WorkflowExecutionStatus.RUNNING
        assert description.typed_search_attributes.get(search_attributes.PERMIT_TYPE) == "PBG"
        await client.get_workflow_handle(workflow_id).terminate("test done")


async def test_dev_server_refuses_a_busy_port(tmp_path: Path) -> None:
    port = services.free_port()
    with services.socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        with pytest.raises(services.ServiceError, match="already in use"):
            async with services.temporal_dev_server(tmp_path, port=port, ui_port=None):
                pass


async def test_dev_server_left_running_by_a_killed_parent_is_stopped(tmp_path: Path) -> None:
    db = tmp_path / services.DEV_SERVER_DB_NAME
    port = services.free_port()
    orphan = await asyncio.create_subprocess_exec(
        services.temporal_cli_path(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        *services.dev_server_args(db, None),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await services.connect_temporal(f"127.0.0.1:{port}", within_s=30)
        (tmp_path / services.DEV_SERVER_PID_NAME).write_text(str(orphan.pid))
        async with services.temporal_dev_server(tmp_path, port=services.free_port(), ui_port=None):
            assert orphan.returncode is not None or not services.port_in_use("127.0.0.1", port)
    finally:
        if orphan.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                orphan.kill()
        await orphan.wait()


async def test_temporal_dev_env_has_search_attributes(
    temporal_dev_env: WorkflowEnvironment,
) -> None:
    client = temporal_dev_env.client
    types = await _search_attribute_types(client, client.namespace)
    assert {name: types.get(name) for name in _expected_types()} == _expected_types()


async def test_temporal_ts_env_accepts_search_attributes(
    temporal_ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_ts_env.client
    assert temporal_ts_env.supports_time_skipping
    handle = await client.start_workflow(
        "NoSuchWorkflow",
        id=f"ts-{uuid.uuid4()}",
        task_queue=task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(search_attributes.PERMIT_TYPE, "SIP"),
                SearchAttributePair(search_attributes.CURRENT_STEP, ["check", "review"]),
            ]
        ),
    )
    description = await handle.describe()
    assert description.typed_search_attributes.get(search_attributes.PERMIT_TYPE) == "SIP"
    assert list(description.typed_search_attributes.get(search_attributes.CURRENT_STEP) or []) == [
        "check",
        "review",
    ]
    await handle.terminate("test done")


def test_task_queue_is_fresh(task_queue: str) -> None:
    assert task_queue.startswith("loket-test-")


# --------------------------------------------------------------------------- loket dev

# Stand-ins for the migrations, the worker and the API, so that the orchestration of
# `loket dev` (order, URLs, Ctrl-C, restart with data kept) is tested on its own.
_FAKE_STACK = textwrap.dedent(
    """
    import asyncio, sys, types

    import asyncpg
    from fastapi import FastAPI
    from temporalio.client import Client


    async def migrate(dsn):
        connection = await asyncpg.connect(dsn)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS boots (at timestamptz DEFAULT now());"
            "INSERT INTO boots DEFAULT VALUES"
        )
        await connection.close()


    async def seed_from_definitions(dsn, definitions):
        return 0


    async def run_worker(settings, dsn, stop):
        client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
        await client.workflow_service.get_system_info(
            __import__("temporalio.api.workflowservice.v1", fromlist=["x"]).GetSystemInfoRequest()
        )
        await stop.wait()
        with open(settings.data_dir / "worker-stopped", "w") as f:
            f.write("clean")


    def create_app(settings, dsn):
        app = FastAPI()

        @app.get("/healthz")
        async def healthz():
            connection = await asyncpg.connect(dsn)
            boots = await connection.fetchval("SELECT count(*) FROM boots")
            await connection.close()
            return {"boots": boots}

        return app


    for name, attrs in {
        "loket.store.migrate": {"migrate": migrate},
        "loket.store.dev_seed": {"seed_from_definitions": seed_from_definitions},
        "worker": {"run_worker": run_worker},
        "loket.compose": {"create_app": create_app},
    }.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module

    from loket.cli import main

    sys.exit(main(sys.argv[1:]))
    """
)


@dataclass
class _Stack:
    process: asyncio.subprocess.Process
    output: list[str]


@pytest.fixture
def stack_ports() -> dict[str, int]:
    return {name: services.free_port() for name in ("api", "ui", "temporal")}


@contextlib.asynccontextmanager
async def _running_stack(
    command: list[str], data_dir: Path, ports: dict[str, int]
) -> AsyncIterator[_Stack]:
    """``loket dev`` in its own process group (like a terminal's foreground job), up.

    Ports picked as free can be taken by another process before the stack binds them (other
    test runs share this machine): then it retries with new ones, updating ``ports``.
    """
    for attempt in range(3):
        process, output, reader = await _launch(command, data_dir, ports)
        try:
            if await _wait_up(process, output, reader):
                yield _Stack(process, output)
                return
            taken = any("address already in use" in line for line in output)
            assert taken and attempt < 2, "loket dev did not come up:\n" + "\n".join(output)
            ports.update({name: services.free_port() for name in ports})
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
            await reader


async def _launch(
    command: list[str], data_dir: Path, ports: dict[str, int]
) -> tuple[asyncio.subprocess.Process, list[str], asyncio.Task[None]]:
    env = {
        **os.environ,
        "LOKET_DATA_DIR": str(data_dir),
        "LOKET_API_PORT": str(ports["api"]),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("LOKET_TEMPORAL_ADDRESS", "DATABASE_URL", "LOKET_DATABASE_URL"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        *command,
        "dev",
        "--temporal-port",
        str(ports["temporal"]),
        "--ui-port",
        str(ports["ui"]),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    output: list[str] = []

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            output.append(raw.decode(errors="replace").rstrip())

    return process, output, asyncio.create_task(read())


async def _wait_up(
    process: asyncio.subprocess.Process, output: list[str], reader: asyncio.Task[None]
) -> bool:
    """True once the URLs block is printed; False when the process ended first."""
    deadline = asyncio.get_running_loop().time() + STACK_START_S
    while asyncio.get_running_loop().time() < deadline:
        # The last line of the URLs block.
        if any(line.startswith("Ctrl-C stops everything") for line in output):
            return True
        if reader.done():
            return False
        await asyncio.sleep(0.1)
    return False


async def _ctrl_c(stack: _Stack) -> int:
    os.killpg(stack.process.pid, signal.SIGINT)
    return await asyncio.wait_for(stack.process.wait(), STACK_STOP_S)


def _assert_all_stopped(data_dir: Path, ports: dict[str, int]) -> None:
    for name in ("api", "ui", "temporal"):
        assert not services.port_in_use("127.0.0.1", ports[name]), name
    assert not (data_dir / "postgresql" / "postmaster.pid").exists()
    assert not (data_dir / "temporal" / services.DEV_SERVER_PID_NAME).exists()


@pytest.mark.slow
@pytest.mark.devserver
async def test_loket_dev_orchestrates_stops_on_ctrl_c_and_keeps_data(
    tmp_path: Path, stack_ports: dict[str, int]
) -> None:
    runner = tmp_path / "fake_stack.py"
    runner.write_text(_FAKE_STACK)
    data_dir = tmp_path / "data"
    for boot in (1, 2):
        async with _running_stack([sys.executable, str(runner)], data_dir, stack_ports) as stack:
            text = "\n".join(stack.output)
            api = f"http://127.0.0.1:{stack_ports['api']}"
            assert f"API:          {api}" in text
            assert f"API docs:     {api}/docs" in text
            assert f"Temporal UI:  http://127.0.0.1:{stack_ports['ui']}" in text
            async with httpx.AsyncClient(timeout=10) as http:
                health = await http.get(f"{api}/healthz")
                assert health.json() == {"boots": boot}  # migrations ran, data kept
                assert (await http.get(f"{api}/docs")).status_code == 200
                ui = await http.get(f"http://127.0.0.1:{stack_ports['ui']}/")
                assert ui.status_code == 200
            assert await _ctrl_c(stack) == 0, "\n".join(stack.output)
        assert (data_dir / "worker-stopped").read_text() == "clean"
        (data_dir / "worker-stopped").unlink()
        _assert_all_stopped(data_dir, stack_ports)


_REAL_MODULES = ("loket.store.migrate", "loket.compose", "worker")


def _missing_modules() -> list[str]:
    missing = []
    for name in _REAL_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


@pytest.mark.slow
@pytest.mark.devserver
@pytest.mark.skipif(bool(_missing_modules()), reason=f"not written yet: {_missing_modules()}")
async def test_loket_dev_runs_the_real_stack(tmp_path: Path, stack_ports: dict[str, int]) -> None:
    data_dir = tmp_path / "data"
    async with _running_stack([str(LOKET)], data_dir, stack_ports) as stack:
        api = f"http://127.0.0.1:{stack_ports['api']}"
        async with httpx.AsyncClient(timeout=10) as http:
            assert (await http.get(f"{api}/healthz")).status_code == 200
            assert (await http.get(f"{api}/docs")).status_code == 200
            assert (await http.get(f"{api}/openapi.json")).status_code == 200
        assert await _ctrl_c(stack) == 0, "\n".join(stack.output)
    _assert_all_stopped(data_dir, stack_ports)


async def test_temporal_ts_env_fresh_is_its_own_server(
    temporal_ts_env: WorkflowEnvironment, temporal_ts_env_fresh: WorkflowEnvironment
) -> None:
    assert temporal_ts_env_fresh.client.service_client is not temporal_ts_env.client.service_client
    handle = await temporal_ts_env.client.start_workflow(
        "NoSuchWorkflow", id="same-id", task_queue="nobody-polls"
    )
    # The same ID is free on the fresh server.
    other = await temporal_ts_env_fresh.client.start_workflow(
        "NoSuchWorkflow", id="same-id", task_queue="nobody-polls"
    )
    await other.terminate("test done")
    await handle.terminate("test done")
