"""The FastAPI application: public, auth, staff and admin routers over one set of services.

``create_app`` builds the app; its lifespan creates the asyncpg pool, connects the Temporal
client (unless one is given), and loads the catalog and the calendar snapshot once. Every
error answers JSON ``{"detail": reason}``; an unexpected one answers a generic 500 and is
logged here, never shown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client

from loket.api import auth, monitoring, ops, public, staff, supervisor
from loket.api.deps import ApiError, Services, error_body
from loket.calendar_data import covered_years, load_calendar
from loket.route.form import FormError
from loket.route.loader import load_catalog
from loket.settings import Settings
from loket.store.db import create_pool
from loket.web import install as install_web

log = logging.getLogger(__name__)

INTERNAL_ERROR = "internal error; it has been logged"


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    if parts and parts[0] == "form" and len(parts) > 1:
        parts = parts[1:]  # the keys inside a permit form are the field names applicants know
    return ".".join(parts) or "body"


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _form_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FormError)
    fields = ", ".join(e["field"] for e in exc.errors)
    return JSONResponse(
        error_body(f"the form has errors in: {fields}", errors=exc.errors),
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_of(e.get("loc", ())), "message": e["msg"]} for e in exc.errors()]
    fields = ", ".join(e["field"] for e in errors)
    return JSONResponse(
        error_body(f"invalid request: {fields}", errors=errors),
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        error_body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body(INTERNAL_ERROR), status_code=status.HTTP_500_INTERNAL_SERVER_ERROR
    )


def create_app(settings: Settings, dsn: str, *, client: Client | None = None) -> FastAPI:
    """The API on the database at ``dsn`` and the Temporal server of ``settings`` (or
    ``client``, already connected with the pydantic data converter)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        definitions = settings.definitions_dir
        catalog = load_catalog(definitions)
        calendar = load_calendar(definitions, *covered_years(definitions))
        pool = await create_pool(dsn)
        try:
            if client is None:
                from worker import connect

                temporal = await connect(settings)
            else:
                temporal = client
            app.state.services = Services(
                settings=settings, pool=pool, client=temporal, catalog=catalog, calendar=calendar
            )
            log.info(
                "API ready: %d permit types, calendar %s, task queue %r",
                len(catalog.permits),
                calendar.version,
                settings.temporal_task_queue,
            )
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="Loket",
        summary="Permit routing across the counters of a public service mall (MPP)",
        version="0.1.0",
        lifespan=lifespan,
        # Served by loket/api/ops.py from packaged files: /docs works without internet.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=ops.operation_id,
    )
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(FormError, _form_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

    ops.install(app)  # /healthz (readiness), HTTP metrics, offline /docs and /redoc
    app.include_router(public.router)
    app.include_router(auth.router)
    app.include_router(staff.router)
    app.include_router(staff.admin_router)
    app.include_router(monitoring.router)
    app.include_router(monitoring.deadlines_router)
    app.include_router(supervisor.router)
    install_web(app)  # pages, static files, security headers (loket/web)
    return app


__all__ = ["Services", "create_app"]
