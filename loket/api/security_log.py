"""The security log for the inspectorate: refused attempts per application and per user.

Read-only, for administrators and inspectors. Mounted under the monitoring routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from loket.api.deps import AuditReader, ServicesDep
from loket.edge.params import RegistrationNumber
from loket.services import security
from loket.services.rows import USERNAME_PATTERN, SecurityEvent

router = APIRouter(prefix="/security", tags=["security"])

Username = Annotated[str, Path(pattern=USERNAME_PATTERN, max_length=63)]


@router.get(
    "/applications/{registration_number}",
    summary="Refused attempts on an application, newest first",
)
async def get_application_log(
    services: ServicesDep, user: AuditReader, registration_number: RegistrationNumber
) -> list[SecurityEvent]:
    return await security.application_security_log(services, registration_number)


@router.get("/users/{username}", summary="Refused attempts by (or as) a user name, newest first")
async def get_user_log(
    services: ServicesDep, user: AuditReader, username: Username
) -> list[SecurityEvent]:
    return await security.user_security_log(services, username)
