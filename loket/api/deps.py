"""What every router needs: the shared services, errors, the signed-in user, the
idempotency key, and sending Updates to an application's workflow.

The routers' service functions take :class:`Services` (and a :class:`User`) instead of a
request, so web pages can call them as they are and render what they return. They raise
:class:`ApiError` subclasses (``loket.api.errors``), which the app renders as ``ErrorOut``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from loket import metrics
from loket.api.errors import (
    HIDDEN_REFUSALS,
    ApiError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    TooMany,
    Unauthorized,
    Unavailable,
    refusal_error,
    task_not_found,
)
from loket.calendar import CalendarSnapshot
from loket.refusal import RefusalCode
from loket.route.loader import Catalog
from loket.route.model import PermitType
from loket.settings import Settings
from loket.store import security, users
from loket.store.db import Conn
from loket.store.users import User
from workflows.messages import ApplicationView

log = logging.getLogger(__name__)

TOKEN_URL = "/api/auth/token"

# Set per request by the edge middleware: who is asking, for the security log.
client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)

__all__ = [
    "ApiError",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Services",
    "TooLarge",
    "TooMany",
    "Unauthorized",
    "Unavailable",
]


@dataclass(frozen=True)
class Services:
    """Created once by the app's lifespan; held on ``app.state.services``."""

    settings: Settings
    pool: asyncpg.Pool
    client: Client
    catalog: Catalog
    calendar: CalendarSnapshot

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.token_ttl_hours)

    def acquire(self) -> asyncpg.pool.PoolAcquireContext:
        """A connection from the pool, waiting at most ``db_acquire_timeout_s``: a pool
        exhausted or a database that does not answer is a 503, not a request that hangs."""
        return self.pool.acquire(timeout=self.settings.db_acquire_timeout_s)

    def permit(self, permit_id: str) -> PermitType:
        permit = self.catalog.permits.get(permit_id)
        if permit is None:
            raise NotFound("permit_not_found", permit_id=permit_id)
        return permit


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- the security log --------------------------------------------------------------------


async def log_refused(
    services: Services,
    *,
    action: str,
    code: str,
    user: User | None = None,
    username: str | None = None,
    registration_number: str | None = None,
    step_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a refused attempt. Never fails the answer: a log that cannot be written is
    reported in the server's log instead."""
    try:
        async with services.acquire() as conn:
            await security.record(
                conn,
                at=utcnow(),
                action=action,
                code=code,
                username=user.username if user else username,
                role=user.role if user else None,
                client_ip=client_ip.get(),
                registration_number=registration_number,
                step_id=step_id,
                details=details,
            )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        log.exception("security log not written: %s %s %s", action, code, registration_number)


# --- dependencies ------------------------------------------------------------------------


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_db(services: ServicesDep) -> AsyncIterator[Conn]:
    async with services.acquire() as conn:
        yield conn


Db = Annotated[Conn, Depends(get_db)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


async def get_current_user(services: ServicesDep, token: BearerToken) -> User:
    if not token or len(token) > 200:
        raise Unauthorized()
    async with services.acquire() as conn:
        user = await users.resolve_token(conn, token, now=utcnow())
    if user is None:
        raise Unauthorized()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def _action_of(request: Request) -> str:
    """The operation asked for, named as the other log entries are (post_claim -> claim)."""
    endpoint = request.scope.get("endpoint")
    name = getattr(endpoint, "__name__", "") or request.url.path
    return name.removeprefix("post_").removeprefix("get_")


class RequireRole:
    """Dependency: the signed-in user, if their role is one of ``roles`` (else 403, logged)."""

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    async def __call__(self, request: Request, services: ServicesDep, user: CurrentUser) -> User:
        if user.role not in self.roles:
            await log_refused(
                services,
                action=_action_of(request),
                code=RefusalCode.WRONG_ROLE.value,
                user=user,
                registration_number=request.path_params.get("registration_number"),
                step_id=request.path_params.get("step_id"),
            )
            raise Forbidden("forbidden", roles=" or ".join(self.roles))
        return user


# Staff and supervisors work tasks; administrators and inspectors read across agencies.
StaffUser = Annotated[User, Depends(RequireRole("staff", "supervisor"))]
TaskReader = Annotated[User, Depends(RequireRole("staff", "supervisor", "admin", "inspector"))]
AdminUser = Annotated[User, Depends(RequireRole("admin"))]
AuditReader = Annotated[User, Depends(RequireRole("admin", "inspector"))]

# An Idempotency-Key becomes part of a Temporal Update ID: keep it short and plain.
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,100}$"
IDEMPOTENCY_HEADER = "Idempotency-Key"

IdempotencyKey = Annotated[
    str,
    Header(
        alias=IDEMPOTENCY_HEADER,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description=(
            "the client's key for this change (e.g. a UUID): a retried request with the "
            "same key acts once and is answered with the first result"
        ),
    ),
]


# --- talking to the workflow -------------------------------------------------------------


def update_id(operation: str, registration_number: str, key: str) -> str:
    """The Temporal Update ID of a change: Temporal answers a repeated ID with the first
    outcome, so a retried or double-submitted request acts once."""
    return f"{operation}:{registration_number}:{key}"


async def update_workflow(
    services: Services,
    registration_number: str,
    update: str,
    request: Any,
    *,
    operation: str,
    key: str,
    user: User | None = None,
    step_id: str | None = None,
) -> ApplicationView:
    """Send an Update to an application's workflow and return its new state.

    A refusal by the workflow's validator or handler becomes the ``ApiError`` of its code
    (recorded in the security log); "not your counter" answers exactly like a missing
    task. An Update that does not answer within ``update_timeout_s`` answers 503
    ``update_pending``: the same key later attaches to the same Update.
    """
    handle = services.client.get_workflow_handle(registration_number, result_type=ApplicationView)
    try:
        view: ApplicationView = await asyncio.wait_for(
            handle.execute_update(
                update,
                request,
                id=update_id(operation, registration_number, key),
                result_type=ApplicationView,
            ),
            timeout=services.settings.update_timeout_s,
        )
        return view
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if not (isinstance(cause, ApplicationError) and cause.type == "Refused"):
            log.error("update %s of %s failed: %r", update, registration_number, cause)
            raise Conflict("update_failed", type=getattr(cause, "type", None)) from None
        code = cause.message
        params = dict(cause.details[0]) if cause.details else {}
        metrics.observe_refusal(code)
        await log_refused(
            services,
            action=operation,
            code=code,
            user=user,
            username=None if user else getattr(getattr(request, "actor", None), "username", None),
            registration_number=registration_number,
            step_id=step_id or params.get("step_id"),
            details=params,
        )
        if code in HIDDEN_REFUSALS:
            raise task_not_found(
                registration_number, step_id or str(params.get("step_id"))
            ) from None
        raise refusal_error(code, params) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        log.warning("update %s of %s still pending", update, registration_number)
        raise Unavailable("update_pending", retry_after=2) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # The workflow has finished (or never ran): nothing can change any more.
            raise Conflict(RefusalCode.CLOSED.value, result="closed") from None
        raise
