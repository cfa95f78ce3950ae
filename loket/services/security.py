"""The security log: refused attempts written (never failing the answer) and read back
per application and per user by the inspectorate."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from loket.services.context import Services, client_ip, utcnow
from loket.store import security
from loket.store.security import SecurityEvent
from loket.store.users import User

log = logging.getLogger(__name__)


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


async def application_security_log(
    services: Services, registration_number: str
) -> list[SecurityEvent]:
    async with services.acquire() as conn:
        return await security.of_application(conn, registration_number)


async def user_security_log(services: Services, username: str) -> list[SecurityEvent]:
    async with services.acquire() as conn:
        return await security.of_user(conn, username)
