"""Starting applications: registration numbers, access codes, the pinned workflow input.

Shared by the API and the tests so that an application is always started the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from loket import search_attributes as sa
from loket.calendar import CalendarSnapshot
from loket.case.messages import Actor, ApplicationView, PermitInput
from loket.route.form import normalize
from loket.route.model import PermitType
from loket.store.db import Conn
from loket.store.monitoring import remember_calendar

# No 0/O or 1/I/L: codes are read aloud at counters and typed from paper receipts.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ACCESS_CODE_LENGTH = 10


def new_access_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def hash_access_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def access_code_matches(code: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and secrets.compare_digest(hash_access_code(code), stored_hash)


async def next_registration_number(conn: Conn, permit_type: str, year: int) -> str:
    value = await conn.fetchval(
        """
        INSERT INTO registration_counters (permit_type, year, last_value) VALUES ($1, $2, 1)
        ON CONFLICT (permit_type, year)
        DO UPDATE SET last_value = registration_counters.last_value + 1
        RETURNING last_value
        """,
        permit_type,
        year,
    )
    return f"{permit_type}-{year}-{value:06d}"


@dataclass(frozen=True)
class Submitted:
    registration_number: str
    access_code: str
    handle: WorkflowHandle[Any, ApplicationView]


async def submit_application(
    *,
    client: Client,
    pool: asyncpg.Pool,
    permit: PermitType,
    calendar: CalendarSnapshot,
    form: dict[str, Any],
    task_queue: str,
    now: datetime,
    search_attributes: bool = True,
    applicant_name: str = "applicant",
) -> Submitted:
    """Validate ``form`` (raises ``FormError``), register it and start its workflow.

    The application row exists before the workflow starts, holding the access code's hash;
    if the start fails, the row is removed again so nothing half-made remains.
    """
    data = normalize(permit, form)
    code = new_access_code()
    async with pool.acquire() as conn, conn.transaction():
        await remember_calendar(conn, calendar)
        reg = await next_registration_number(conn, permit.id, now.year)
        await conn.execute(
            """
            INSERT INTO applications (registration_number, permit_type, route_version, status,
                data, access_code_hash, submitted_at, calendar_version)
            VALUES ($1, $2, $3, 'in_progress', $4, $5, $6, $7)
            """,
            reg,
            permit.id,
            permit.version,
            data,
            hash_access_code(code),
            now,
            calendar.version,
        )
    workflow_input = PermitInput(
        registration_number=reg,
        permit=permit,
        calendar=calendar,
        data=data,
        applicant=Actor(username=f"applicant:{reg}", role="applicant"),
        search_attributes=search_attributes,
    )
    try:
        handle: WorkflowHandle[Any, ApplicationView] = await client.start_workflow(
            permit.id,
            workflow_input,
            id=reg,
            task_queue=task_queue,
            result_type=ApplicationView,
            search_attributes=(
                TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.PERMIT_TYPE, permit.id),
                        SearchAttributePair(sa.ROUTE_VERSION, permit.version),
                        SearchAttributePair(sa.STATUS, "in_progress"),
                    ]
                )
                if search_attributes
                else None
            ),
        )
    except BaseException:
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM applications WHERE registration_number = $1", reg)
        raise
    return Submitted(reg, code, handle)
