"""The security log for the inspectorate: refused attempts per application and per user.

Read-only, for administrators and inspectors. Mounted under the monitoring routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from loket.api.deps import AuditReader, Services, ServicesDep
from loket.api.params import RegistrationNumber
from loket.store import security
from loket.store.security import SecurityEvent
from loket.store.users import USERNAME_PATTERN

router = APIRouter(prefix="/security", tags=["security"])

Username = Annotated[str, Path(pattern=USERNAME_PATTERN, max_length=63)]


async def application_security_log(
    services: Services, registration_number: str
) -> list[SecurityEvent]:
    async with services.acquire() as conn:
        return await security.of_application(conn, registration_number)


async def user_security_log(services: Services, username: str) -> list[SecurityEvent]:
    async with services.acquire() as conn:
        return await security.of_user(conn, username)


@router.get(
    "/applications/{registration_number}",
    summary="Refused attempts on an application, newest first",
)
async def get_application_log(
    services: ServicesDep, user: AuditReader, registration_number: RegistrationNumber
) -> list[SecurityEvent]:
    return await application_security_log(services, registration_number)


@router.get("/users/{username}", summary="Refused attempts by (or as) a user name, newest first")
async def get_user_log(
    services: ServicesDep, user: AuditReader, username: Username
) -> list[SecurityEvent]:
    return await user_security_log(services, username)
