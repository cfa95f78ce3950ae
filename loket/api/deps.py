"""What every router needs: the shared services, errors, and the signed-in user.

The routers' service functions take :class:`Services` (and a :class:`User`) instead of a
request, so web pages can call them as they are and render what they return. They raise
:class:`ApiError` subclasses, which the app turns into ``{"detail": reason}`` JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request, status
from fastapi.security import OAuth2PasswordBearer
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.route.model import PermitType
from loket.settings import Settings
from loket.store import users
from loket.store.db import Conn
from loket.store.users import User
from workflows.messages import ApplicationView

TOKEN_URL = "/api/auth/token"


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

    def permit(self, permit_id: str) -> PermitType:
        permit = self.catalog.permits.get(permit_id)
        if permit is None:
            raise NotFound(f"no permit type '{permit_id}'")
        return permit


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- errors ------------------------------------------------------------------------------


class ApiError(Exception):
    """An answer with a reason for the caller: ``{"detail": reason}`` with ``status_code``."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND


class Unauthorized(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED

    def __init__(self, detail: str = "not signed in, or the session has expired") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN


class Conflict(ApiError):
    """The workflow (or the application's state) refused the change; ``detail`` says why."""

    status_code = status.HTTP_409_CONFLICT


# --- dependencies ------------------------------------------------------------------------


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_db(services: ServicesDep) -> AsyncIterator[Conn]:
    async with services.pool.acquire() as conn:
        yield conn


Db = Annotated[Conn, Depends(get_db)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


async def get_current_user(services: ServicesDep, token: BearerToken) -> User:
    if not token:
        raise Unauthorized()
    async with services.pool.acquire() as conn:
        user = await users.resolve_token(conn, token, now=utcnow())
    if user is None:
        raise Unauthorized()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


class RequireRole:
    """Dependency: the signed-in user, if their role is one of ``roles`` (else 403)."""

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    def __call__(self, user: CurrentUser) -> User:
        if user.role not in self.roles:
            raise Forbidden(f"this needs the role {' or '.join(self.roles)}")
        return user


# Staff and supervisors work tasks; administrators and inspectors read across agencies.
StaffUser = Annotated[User, Depends(RequireRole("staff", "supervisor"))]
TaskReader = Annotated[User, Depends(RequireRole("staff", "supervisor", "admin", "inspector"))]
AdminUser = Annotated[User, Depends(RequireRole("admin"))]
AuditReader = Annotated[User, Depends(RequireRole("admin", "inspector"))]


def error_body(detail: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, **extra}


# --- talking to the workflow -------------------------------------------------------------


async def update_workflow(
    services: Services, registration_number: str, update: str, request: Any, *, update_id: str
) -> ApplicationView:
    """Send an Update to an application's workflow and return its new state.

    A refusal by the workflow's validator or handler becomes :class:`Conflict` with the
    workflow's reason. ``update_id`` is deterministic so that a retried request is answered
    with the first result instead of acting twice.
    """
    handle = services.client.get_workflow_handle(registration_number, result_type=ApplicationView)
    try:
        view: ApplicationView = await handle.execute_update(
            update, request, id=update_id, result_type=ApplicationView
        )
        return view
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == "Refused":
            raise Conflict(cause.message) from None
        raise
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # The workflow has finished (or never ran): nothing can change any more.
            raise Conflict(f"application {registration_number} is closed") from None
        raise
