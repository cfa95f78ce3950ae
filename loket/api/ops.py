"""Operations endpoints: health, readiness, metrics, and the API docs without a CDN.

Each process (``loket api``, ``loket worker``, ``loket dev``) runs one small *ops server*
on its own port (``LOKET_OPS_PORT``), beside the public API port:

  /livez    200 while the process's event loop answers
  /readyz   200 when every readiness check passes (PostgreSQL, Temporal, and for the worker
            that it polls), else 503 with the failing checks' reason codes
  /metrics  Prometheus text: Loket's series and the Temporal SDK's (loket/metrics.py)
  /codec/decode, /codec/encode  Temporal's remote codec protocol (loket/api/codec.py)

A separate port keeps metrics and readiness details off the public port (Prometheus and
the container healthchecks reach it on the internal network). The public app keeps
``/healthz`` (readiness of the API, with the catalog's summary) through :data:`router`, and
:func:`install` adds the request telemetry (loket/telemetry.py) and the offline Swagger UI
/ ReDoc pages. It reads no store: the worker (worker.py) refreshes the read-model gauges.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import asyncpg
import fastapi_offline
import uvicorn
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.routing import Route
from temporalio.client import Client

from loket import metrics, telemetry
from loket.api.codec import codec_routes
from loket.api.deps import ServicesDep

log = logging.getLogger(__name__)

OK = "ok"
TIMEOUT = "timeout"
UNREACHABLE = "unreachable"
NOT_POLLING = "not_polling"
STARTING = "starting"

# A check answers None when healthy, else a short reason code (never a stack trace).
Check = Callable[[], Awaitable[str | None]]


# --------------------------------------------------------------------------- checks


def postgres_check(pool: asyncpg.Pool, timeout_s: float) -> Check:
    async def check() -> str | None:
        try:
            async with asyncio.timeout(timeout_s):
                async with pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
        except TimeoutError:
            return TIMEOUT
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("readiness: PostgreSQL: %s", exc)
            return UNREACHABLE
        return None

    return check


def temporal_check(client: Client, timeout_s: float) -> Check:
    async def check() -> str | None:
        try:
            async with asyncio.timeout(timeout_s):
                healthy = await client.service_client.check_health(
                    timeout=timedelta(seconds=timeout_s)
                )
        except TimeoutError:
            return TIMEOUT
        except Exception as exc:  # RPCError, connection refused: any failure means not ready
            log.warning("readiness: Temporal: %s", exc)
            return UNREACHABLE
        return None if healthy else UNREACHABLE

    return check


def app_checks(app: FastAPI, timeout_s: float) -> dict[str, Check]:
    """The API's readiness: its own pool and client, once its lifespan has made them."""

    def lazy(name: str) -> Check:
        async def check() -> str | None:
            services = getattr(app.state, "services", None)
            if services is None:
                return STARTING
            if name == "postgresql":
                return await postgres_check(services.pool, timeout_s)()
            return await temporal_check(services.client, timeout_s)()

        return check

    return {"postgresql": lazy("postgresql"), "temporal": lazy("temporal")}


async def run_checks(checks: Mapping[str, Check]) -> tuple[bool, dict[str, str]]:
    """Every check at once; (all passed, name -> "ok" or reason code)."""
    names = list(checks)
    results = await asyncio.gather(*(checks[n]() for n in names))
    report = {n: r or OK for n, r in zip(names, results, strict=True)}
    return all(r is None for r in results), report


# --------------------------------------------------------------------------- ops server


def ops_app(checks: Mapping[str, Check], codec_origins: Sequence[str] = ()) -> Starlette:
    async def livez(request: Request) -> Response:
        return JSONResponse({"status": OK})

    async def readyz(request: Request) -> Response:
        ready, report = await run_checks(checks)
        return JSONResponse(
            {"status": OK if ready else "unavailable", "checks": report},
            status_code=200 if ready else 503,
        )

    async def scrape(request: Request) -> Response:
        return Response(await metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/livez", livez, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", scrape, methods=["GET"]),
            *codec_routes(codec_origins),  # /codec/decode for the Temporal UI and CLI
        ]
    )


class _QuietServer(uvicorn.Server):
    """The process that runs the ops server owns the signals, not uvicorn."""

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


@contextlib.asynccontextmanager
async def ops_server(
    host: str, port: int, checks: Mapping[str, Check], codec_origins: Sequence[str] = ()
) -> AsyncIterator[_QuietServer | None]:
    """Serve :func:`ops_app` on ``host:port`` while the block runs; port 0: nothing."""
    if not port:
        yield None
        return
    server = _QuietServer(
        uvicorn.Config(
            ops_app(checks, codec_origins), host=host, port=port, log_config=None, access_log=False
        )
    )

    async def serve() -> None:
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits when it cannot bind: not the process
            raise RuntimeError(f"the ops server stopped (exit code {exc.code})") from None

    task = asyncio.create_task(serve(), name="ops-server")
    up = asyncio.create_task(server.up.wait())
    try:
        await asyncio.wait({task, up}, return_when=asyncio.FIRST_COMPLETED)
        if not server.up.is_set():
            raise RuntimeError(f"the ops server could not start on {host}:{port}")
        log.info("ops server on http://%s:%d (/livez /readyz /metrics)", host, port)
        yield server
    finally:
        up.cancel()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task


# --------------------------------------------------------------------------- public app


class Health(BaseModel):
    status: str
    permit_types: int
    calendar_version: str
    checks: dict[str, str]


router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Readiness of the API: PostgreSQL and Temporal answer (503 when not)",
    operation_id="health",
    response_model=Health,
    responses={503: {"model": Health}},
)
async def healthz(services: ServicesDep) -> JSONResponse:
    timeout = services.settings.ready_timeout_s
    ready, report = await run_checks(
        {
            "postgresql": postgres_check(services.pool, timeout),
            "temporal": temporal_check(services.client, timeout),
        }
    )
    body = Health(
        status=OK if ready else "unavailable",
        permit_types=len(services.catalog.permits),
        calendar_version=services.calendar.version,
        checks=report,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


# Offline docs: the Swagger UI and ReDoc files shipped by fastapi-offline, served by the
# docs pages themselves (``/docs?asset=NAME``) so that no route is added beside them.
_ASSETS: dict[str, Path] = {
    p.name: p
    for p in (Path(fastapi_offline.__file__).parent / "static").iterdir()
    if p.suffix in (".js", ".css", ".png")
}
_ASSET_CACHE = "public, max-age=86400"


def _asset(name: str) -> Response:
    path = _ASSETS.get(name)
    if path is None:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    return FileResponse(path, headers={"cache-control": _ASSET_CACHE})


AssetQuery = Annotated[str | None, Query(include_in_schema=False)]


def _install_docs(app: FastAPI) -> None:
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request, asset: AssetQuery = None) -> Response:
        if asset is not None:
            return _asset(asset)
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect}",
            swagger_js_url=f"{root}/docs?asset=swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs?asset=swagger-ui.css",
            swagger_favicon_url=f"{root}/docs?asset=favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request, asset: AssetQuery = None) -> Response:
        if asset is not None:
            return _asset(asset)
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}/redoc?asset=redoc.standalone.js",
            redoc_favicon_url=f"{root}/docs?asset=favicon.png",
            with_google_fonts=False,
        )


def operation_id(route: APIRoute) -> str:
    """``staff_decide`` rather than FastAPI's ``post_decide_api_staff_tasks__..._post``:
    the first tag, then the endpoint's name without its HTTP verb."""
    name = re.sub(r"^(get|post|put|patch|delete)_", "", route.name)
    tag = str(route.tags[0]) if route.tags else ""
    return f"{tag}_{name}" if tag and not name.startswith(tag) else name


def install(app: FastAPI) -> None:
    """``/healthz``, HTTP metrics and the offline docs on the public app. Create the app
    with ``docs_url=None, redoc_url=None``: the pages here replace FastAPI's CDN ones."""
    app.include_router(router)
    _install_docs(app)
    app.add_middleware(telemetry.RequestTelemetry)
