"""``loket dev``: the whole local stack in one command, with embedded defaults.

In order: an embedded PostgreSQL (unless ``DATABASE_URL`` names a server), the Temporal dev
server with its Web UI (unless ``--temporal-address``/``LOKET_TEMPORAL_ADDRESS`` names an
existing server, which is then only checked), the migrations, then the worker and the API
in one asyncio loop. Ctrl-C (SIGINT) or SIGTERM stops the API and the worker first, then the
servers this command started. Everything lives under the data folder (``LOKET_DATA_DIR``,
default ``./data``), so running it again keeps every application.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import uvicorn

from loket import embedded as services
from loket.settings import Settings, get_settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_UI_PORT = 8233
POSTGRES_SUBDIR = "postgresql"
TEMPORAL_SUBDIR = "temporal"
_SHUTDOWN_GRACE_S = 30.0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class _StopRequested(Exception):
    """A stop signal arrived while the stack was still starting."""


@dataclass(frozen=True)
class DevOptions:
    """What ``loket dev`` starts itself, beside the settings."""

    start_temporal: bool = True
    ui_port: int = DEFAULT_UI_PORT


@dataclass(frozen=True)
class DevFlags:
    """The flags of ``loket dev``; None: take the setting."""

    temporal_address: str | None = None
    temporal_port: int | None = None
    data_dir: Path | None = None
    api_host: str | None = None
    api_port: int | None = None
    ui_port: int | None = None


def resolve(flags: DevFlags, settings: Settings) -> tuple[Settings, DevOptions]:
    """Settings and options of one ``loket dev`` run: flags override the environment."""
    update: dict[str, object] = {}
    external = "temporal_address" in settings.model_fields_set
    if flags.temporal_address:
        update["temporal_address"] = flags.temporal_address
        external = True
    if flags.data_dir is not None:
        update["data_dir"] = flags.data_dir.resolve()
    if flags.api_host:
        update["api_host"] = flags.api_host
    if flags.api_port is not None:
        update["api_port"] = flags.api_port
    ui_port: int = flags.ui_port or urlsplit(settings.temporal_ui_url).port or DEFAULT_UI_PORT
    if not external:
        host, port = _split_address(settings.temporal_address)
        update["temporal_address"] = f"{host}:{flags.temporal_port or port}"
        update["temporal_ui_url"] = f"http://{host}:{ui_port}"
        if settings.ops_port:  # the dev UI reads deflated payloads through the worker's codec
            origins = {f"http://{host}:{ui_port}", f"http://localhost:{ui_port}"}
            update["codec_cors_origins"] = sorted({*settings.codec_cors_origins, *origins})
    return settings.model_copy(update=update), DevOptions(not external, ui_port)


def run_dev_command(flags: DevFlags, *, verbose: bool = False) -> int:
    """``loket dev``: the exit code (1 when a server failed, 130 on a forced stop)."""
    if not verbose:
        # pgserver logs every pg_ctl call at INFO.
        logging.getLogger("pgserver").setLevel(logging.WARNING)
    try:
        settings, options = resolve(flags, get_settings())
        return asyncio.run(run_dev(settings, options))
    except services.ServiceError as exc:
        logger.error("%s", exc)
        return EXIT_FAILED
    except (asyncio.CancelledError, KeyboardInterrupt):
        logger.warning("forced stop")
        return EXIT_INTERRUPTED


async def serve_api_alone(settings: Settings) -> None:
    """Migrations, then the API on its port and the ops server (/livez /readyz /metrics)
    on ``ops_port``; uvicorn owns SIGINT/SIGTERM and stops both."""
    from loket.api import ops
    from loket.compose import create_app
    from loket.store.migrate import migrate

    await migrate(settings.database_url)
    app = create_app(settings, settings.database_url)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None)
    )
    async with ops.ops_server(
        settings.ops_host,
        settings.ops_port,
        ops.app_checks(app, settings.ready_timeout_s),
        settings.codec_cors_origins,
    ):
        await server.serve()


def _split_address(address: object) -> tuple[str, int]:
    host, _, port = str(address).rpartition(":")
    if not host or not port.isdigit():
        raise services.ServiceError(f"Temporal address must be HOST:PORT, got {address!r}")
    return host, int(port)


async def run_dev(
    settings: Settings,
    options: DevOptions | None = None,
    *,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> int:
    """Run the stack until ``stop`` is set or SIGINT/SIGTERM; return the exit code.

    ``ready`` is set once the API answers (tests use it together with ``stop``).
    """
    options = options or DevOptions()
    stop = stop or asyncio.Event()
    with _stop_on_signals(stop):
        try:
            return await _Stack(settings, options, stop, ready).run()
        except _StopRequested:
            logger.info("stopped before the stack was up")
            return 0


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """First SIGINT/SIGTERM: graceful stop. Second: cancel everything now."""
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    received = 0

    def handle(signum: int) -> None:
        nonlocal received
        received += 1
        if received == 1:
            logger.info("%s received: stopping (again to force)", signal.Signals(signum).name)
            stop.set()
        elif main_task is not None:
            logger.warning("second signal: cancelling")
            main_task.cancel()

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, handle, signum)
        except (RuntimeError, ValueError):  # not the main thread
            continue
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


class _Stack:
    def __init__(
        self,
        settings: Settings,
        options: DevOptions,
        stop: asyncio.Event,
        ready: asyncio.Event | None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.stop = stop
        self.ready = ready

    async def _phase(self, step: Awaitable[T]) -> T:
        """Await one start-up step, abandoning it when a stop is requested."""
        task = asyncio.ensure_future(step)
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise _StopRequested

    async def run(self) -> int:
        settings = self.settings
        if services.port_in_use(settings.api_host, settings.api_port):
            raise services.ServiceError(
                f"API port {settings.api_host}:{settings.api_port} is already in use "
                "(another `loket dev`?); choose another with --api-port"
            )
        async with contextlib.AsyncExitStack() as stack:
            dsn = settings.database_url
            if dsn:
                logger.info("PostgreSQL: %s (DATABASE_URL)", _redact(dsn))
            else:
                pg_dir = settings.data_dir / POSTGRES_SUBDIR
                dsn = await self._phase(
                    stack.enter_async_context(services.embedded_postgres(pg_dir))
                )
                logger.info("PostgreSQL: embedded, data in %s", pg_dir)

            if self.options.start_temporal:
                host, port = _split_address(settings.temporal_address)
                temporal_dir = settings.data_dir / TEMPORAL_SUBDIR
                await self._phase(
                    stack.enter_async_context(
                        services.temporal_dev_server(
                            temporal_dir,
                            ip=host,
                            port=port,
                            ui_port=self.options.ui_port,
                            codec_endpoint=(
                                f"http://{settings.ops_host}:{settings.ops_port}/codec"
                                if settings.ops_port
                                else None
                            ),
                            namespace=settings.temporal_namespace,
                        )
                    )
                )
                logger.info(
                    "Temporal: dev server on %s, data in %s",
                    settings.temporal_address,
                    temporal_dir,
                )
            else:
                await self._phase(check_temporal(settings))

            from loket.store.migrate import migrate

            await self._phase(migrate(dsn))
            logger.info("PostgreSQL: migrations applied")
            from loket.store.dev_seed import seed_from_definitions

            await self._phase(seed_from_definitions(dsn, settings.definitions_dir))
            return await self._serve(dsn)

    async def _serve(self, dsn: str) -> int:
        """The API in this loop and the worker on a loop of its own, until a stop or a
        failure: a slow request never delays a workflow task's turn on the loop."""
        from loket.compose import create_app

        settings = self.settings
        app = create_app(settings, dsn)
        server = _Server(
            uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None)
        )
        worker_task = asyncio.create_task(self._worker_loop(dsn), name="worker")
        api_task = asyncio.create_task(_serve_api(server), name="api")
        stopper = asyncio.create_task(self.stop.wait(), name="stop")
        announcer = asyncio.create_task(self._announce(server), name="announce")
        tasks = {worker_task, api_task}
        failed = False
        try:
            done, _ = await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks & done:
                exc = task.exception()
                if exc is None and self.stop.is_set():
                    continue  # it saw the stop before we did
                failed = True
                logger.error(
                    "%s stopped unexpectedly%s",
                    task.get_name(),
                    f": {exc!r}" if exc else "",
                    exc_info=exc,
                )
        finally:
            self.stop.set()
            server.should_exit = True
            announcer.cancel()
            stopper.cancel()
            _, pending = await asyncio.wait(tasks, timeout=_SHUTDOWN_GRACE_S)
            for task in pending:
                logger.warning(
                    "%s did not stop within %.0fs; cancelling", task.get_name(), _SHUTDOWN_GRACE_S
                )
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for task, result in zip(tasks, results, strict=True):
                if isinstance(result, Exception) and not failed:
                    failed = True
                    logger.error("%s failed while stopping: %r", task.get_name(), result)
        logger.info("stopped")
        return 1 if failed else 0

    async def _worker_loop(self, dsn: str) -> None:
        """``run_worker`` on an event loop of its own, in a thread, stopped with the stack.

        Production runs API and worker as separate processes; here one process keeps the
        one-command stack simple, and the worker's loop is not the API's."""
        from worker import run_worker

        started = threading.Event()
        handle: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}

        def main() -> None:
            async def run() -> None:
                stop = asyncio.Event()
                handle["stop"] = (asyncio.get_running_loop(), stop)
                started.set()
                await run_worker(self.settings, dsn, stop)

            asyncio.run(run())

        runner = asyncio.ensure_future(asyncio.to_thread(main))
        stopping = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({runner, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not runner.done():
                await asyncio.to_thread(started.wait)
                loop, stop = handle["stop"]
                loop.call_soon_threadsafe(stop.set)
            await runner  # its exception, if the worker failed
        finally:
            stopping.cancel()

    async def _announce(self, server: _Server) -> None:
        await server.up.wait()
        settings = self.settings
        api = f"http://{settings.api_host}:{settings.api_port}"
        # One record, so the block is not interleaved with other output.
        logger.info(
            "Loket is running:\n"
            "  API:          %s\n"
            "  API docs:     %s/docs\n"
            "  Temporal UI:  %s\n"
            "  Temporal:     %s (namespace %s, task queue %s)\n"
            "Ctrl-C stops everything; data stay in %s",
            api,
            api,
            settings.temporal_ui_url,
            settings.temporal_address,
            settings.temporal_namespace,
            settings.temporal_task_queue,
            settings.data_dir,
        )
        if self.ready is not None:
            self.ready.set()


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: ``loket dev`` owns the signals
    (uvicorn would re-raise SIGINT once the API stopped, before the worker has)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.up = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.up.set()


async def _serve_api(server: _Server) -> None:
    try:
        await server.serve()
    except SystemExit as exc:  # uvicorn exits the process when start-up fails
        raise services.ServiceError(f"the API failed to start (exit code {exc.code})") from None
    if not server.should_exit:
        raise services.ServiceError("the API stopped by itself")


async def check_temporal(settings: Settings) -> None:
    """An existing Temporal server: it answers, knows the namespace, has the search
    attributes (registered here when missing)."""
    client = await services.connect_temporal(
        settings.temporal_address, settings.temporal_namespace, within_s=10
    )
    missing = await services.missing_search_attributes(client, settings.temporal_namespace)
    if missing:
        logger.warning("registering missing search attributes: %s", ", ".join(missing))
        await services.register_search_attributes(client, settings.temporal_namespace, missing)
    logger.info("Temporal: existing server at %s", settings.temporal_address)


def _redact(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    return dsn
