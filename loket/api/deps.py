"""What every router needs: the shared services, the signed-in user, its role, and the
idempotency key.

Routes are thin: they parse the request, call one use case of ``loket.services`` and
return its value. What a use case raises is answered by the app's handlers
(``loket.edge.errors.http_error``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer

from loket.edge.errors import Forbidden
from loket.edge.params import IDEMPOTENCY_KEY_PATTERN
from loket.refusal import RefusalCode
from loket.services import Services
from loket.services.auth import token_user
from loket.services.rows import User
from loket.services.security import log_refused

TOKEN_URL = "/api/auth/token"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


async def get_current_user(services: ServicesDep, token: BearerToken) -> User:
    return await token_user(services, token)


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
SupervisorUser = Annotated[User, Depends(RequireRole("supervisor"))]
TaskReader = Annotated[User, Depends(RequireRole("staff", "supervisor", "admin", "inspector"))]
AdminUser = Annotated[User, Depends(RequireRole("admin"))]
AuditReader = Annotated[User, Depends(RequireRole("admin", "inspector"))]

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
