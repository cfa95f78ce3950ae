"""The security log: refused attempts, rate-limit hits and failed sign-ins.

Written by the edge (API and pages) when it answers a refusal; read by the inspectorate
per application and per user. Text is cut to fit and stripped of what PostgreSQL refuses,
so a hostile value can never make the record itself fail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict

from loket.store.db import Conn
from loket.text import text_problem

_MAX = 200  # characters kept of any free value (user names tried, step ids)
LIST_LIMIT = 500


class SecurityEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    at: datetime
    username: str | None
    role: str | None
    client_ip: str | None
    action: str
    code: str
    registration_number: str | None
    step_id: str | None
    details: dict[str, Any]


def _fit(value: str | None) -> str | None:
    if value is None:
        return None
    value = value[:_MAX]
    if text_problem(value, single_line=True):
        # Keep what was tried, readable and storable: escape the offending characters.
        value = value.encode("unicode_escape", errors="backslashreplace").decode("ascii")[:_MAX]
    return value


async def record(
    conn: Conn,
    *,
    at: datetime,
    action: str,
    code: str,
    username: str | None = None,
    role: str | None = None,
    client_ip: str | None = None,
    registration_number: str | None = None,
    step_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO security_log (at, username, role, client_ip, action, code,
            registration_number, step_id, details)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        at,
        _fit(username),
        _fit(role),
        _fit(client_ip),
        action,
        code,
        _fit(registration_number),
        _fit(step_id),
        {k: _fit(str(v)) for k, v in (details or {}).items()},
    )


def _event(row: asyncpg.Record) -> SecurityEvent:
    return SecurityEvent(**dict(row))


async def of_application(
    conn: Conn, registration_number: str, limit: int = LIST_LIMIT
) -> list[SecurityEvent]:
    rows = await conn.fetch(
        "SELECT * FROM security_log WHERE registration_number = $1 ORDER BY at DESC, id DESC "
        "LIMIT $2",
        registration_number,
        limit,
    )
    return [_event(r) for r in rows]


async def of_user(conn: Conn, username: str, limit: int = LIST_LIMIT) -> list[SecurityEvent]:
    rows = await conn.fetch(
        "SELECT * FROM security_log WHERE username = $1 ORDER BY at DESC, id DESC LIMIT $2",
        username,
        limit,
    )
    return [_event(r) for r in rows]
