"""The FastAPI application: public, auth, staff and admin routers over one set of services.

``create_app`` builds the app; its lifespan creates the asyncpg pool, connects the Temporal
client (unless one is given), and loads the catalog and the calendar snapshot once. Every
error answers ``ErrorOut`` (``loket.api.errors``): faults (Temporal or PostgreSQL down)
answer 503 with Retry-After, an unexpected error a generic 500 that is logged, never
shown, and answered inside the app so the keep-alive connection survives it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client
from temporalio.service import RPCError

from loket.api import auth, monitoring, ops, public, staff, supervisor
from loket.api.deps import ApiError, Invalid, Services
from loket.api.edge import _DB_FAULTS, CatchAll, Edge, fault_error
from loket.api.fields import amount_invalid, field_code, form_invalid
from loket.api.messages import pick_language
from loket.calendar_data import covered_years, load_calendar
from loket.fees import AmountOutOfRange
from loket.route.form import FormError
from loket.route.loader import load_catalog
from loket.settings import Settings
from loket.store.db import create_pool
from loket.web import install as install_web

log = logging.getLogger(__name__)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    if parts and parts[0] == "form" and len(parts) > 1:
        parts = parts[1:]  # the keys inside a permit form are the field names applicants know
    return ".".join(parts) or "body"


def _lang(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


def _answer(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(_lang(request)), status_code=exc.status_code, headers=exc.headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _answer(request, exc)


async def _form_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FormError)
    return _answer(request, form_invalid(exc))


async def _amount_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AmountOutOfRange)
    return _answer(request, amount_invalid(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_of(e.get("loc", ())), "code": field_code(e), "message": e["msg"]}
        for e in exc.errors()
    ]
    code = "invalid_request"
    if any(e["field"].lower() == "idempotency-key" and e["code"] == "missing" for e in errors):
        code = "idempotency_key_missing"
    fields = sorted({e["field"] for e in errors})
    return _answer(request, Invalid(code, errors=errors, fields=fields))


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's "error parsing the body" (a body that is not what its content type
        # says): a bad request field like any other, answered as the documented 422.
        errors = [{"field": "body", "code": "invalid", "message": str(exc.detail)}]
        return _answer(request, Invalid("invalid_request", errors=errors, fields=["body"]))
    error = ApiError(
        _HTTP_CODES.get(exc.status_code, "http_error"),
        headers=dict(exc.headers) if exc.headers else None,
    )
    error.status_code = exc.status_code
    return _answer(request, error)


async def _fault(request: Request, exc: Exception) -> JSONResponse:
    error = fault_error(exc)
    if error is None:
        raise exc  # a real bug: CatchAll answers 500 and logs it
    return _answer(request, error)


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
    app.add_exception_handler(AmountOutOfRange, _amount_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    faults: tuple[type[Exception], ...] = (RPCError, *_DB_FAULTS)
    for fault in faults:
        app.add_exception_handler(fault, _fault)
    # Innermost: whatever no handler took is answered inside the app (keep-alive survives).
    app.add_middleware(CatchAll)

    ops.install(app)  # /healthz (readiness), HTTP metrics, offline /docs and /redoc
    app.include_router(public.router)
    app.include_router(auth.router)
    app.include_router(staff.router)
    app.include_router(staff.admin_router)
    app.include_router(monitoring.router)
    app.include_router(monitoring.deadlines_router)
    app.include_router(supervisor.router)
    install_web(app)  # pages, static files, security headers (loket/web)
    # Outermost: body limits before any parsing; no-store and HSTS on every answer.
    app.add_middleware(Edge, settings=settings)
    return app


__all__ = ["Services", "create_app"]
