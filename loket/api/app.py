"""The JSON API: public, auth, staff and admin routers, and how every error answers.

:func:`create_api` builds the FastAPI app and its routers; the composition root
(``loket.compose``) gives it its lifespan (the services), adds the pages and the edge
middleware. Every error answers ``ErrorOut`` (``loket.edge.errors``): faults (Temporal or
PostgreSQL down) answer 503 with Retry-After, an unexpected error a generic 500 that is
logged, never shown, and answered inside the app so the keep-alive connection survives it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from loket.api import (
    auth,
    complaints,
    documents,
    monitoring,
    notify,
    ops,
    payments,
    permits,
    public,
    staff,
    supervisor,
)
from loket.api import performance as performance_api
from loket.api.edge import CatchAll
from loket.edge.errors import DB_FAULTS, HANDLED, ApiError, Invalid, http_error
from loket.edge.messages import pick_language
from loket.services.fields import field_code

log = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


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


async def _handled(request: Request, exc: Exception) -> JSONResponse:
    """A use case's error (service error, refusal, bad form or amount) or the edge's own."""
    error = http_error(exc)
    assert error is not None
    return _answer(request, error)


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
    error = http_error(exc)
    if error is None:
        raise exc  # a real bug: CatchAll answers 500 and logs it
    return _answer(request, error)


def create_api(lifespan: Lifespan) -> FastAPI:
    """The API's routes and error handlers; ``lifespan`` puts ``Services`` on
    ``app.state.services`` (the composition root's)."""
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
    for handled in HANDLED:
        app.add_exception_handler(handled, _handled)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    faults: tuple[type[Exception], ...] = (RPCError, *DB_FAULTS)
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
    app.include_router(complaints.router)
    app.include_router(complaints.staff_router)
    app.include_router(performance_api.router)
    app.include_router(payments.router)
    app.include_router(documents.public_router)  # 10A
    app.include_router(documents.staff_router)  # 10A
    app.include_router(permits.router)  # issued permits (issue 10 §2)
    app.include_router(permits.admin_router)
    app.include_router(notify.router)
    return app


__all__ = ["create_api"]
