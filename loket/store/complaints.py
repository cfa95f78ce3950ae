"""Complaints and the supervision of deemed approvals: every SQL statement of issue 12b.

A complaint's route writes the usual application tables; ``complaints`` keeps its link to
an application and to SP4N-LAPOR!. ``supervision_tasks`` rows are opened by the record
activity (:func:`open_supervisions`, called from ``apply_batch`` in the batch's
transaction) from each ``step_deemed_approved`` audit entry, so a retried batch opens none
twice; staff of the agency close them once, with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from loket.case.deadline_policy import DEEMED_EVENT
from loket.case.messages import AuditEntry
from loket.store.db import Conn

Source = Literal["public", "tracking", "lapor"]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class ComplaintRow(_Row):
    tracking_number: str
    related_registration: str | None
    lapor_ticket: str | None
    source: Source
    created_at: datetime


class SupervisionRow(_Row):
    registration_number: str
    step_id: str
    attempt: int
    agency: str
    counter: str
    legal_basis: str
    deemed_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    note: str | None


async def record_complaint(
    conn: Conn,
    tracking_number: str,
    *,
    related_registration: str | None,
    lapor_ticket: str | None,
    source: Source,
) -> None:
    """Idempotent: a retried submission finds its row."""
    await conn.execute(
        "INSERT INTO complaints (tracking_number, related_registration, lapor_ticket, source)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (tracking_number) DO NOTHING",
        tracking_number,
        related_registration,
        lapor_ticket,
        source,
    )


async def complaint(conn: Conn, tracking_number: str) -> ComplaintRow | None:
    row = await conn.fetchrow(
        "SELECT tracking_number, related_registration, lapor_ticket, source, created_at"
        " FROM complaints WHERE tracking_number = $1",
        tracking_number,
    )
    return ComplaintRow(**dict(row)) if row else None


async def application_exists(conn: Conn, registration_number: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM submissions WHERE registration_number = $1)",
            registration_number,
        )
    )


async def open_supervisions(conn: Conn, reg: str, audit: Sequence[AuditEntry]) -> None:
    rows = [
        (
            reg,
            e.step_id,
            e.attempt,
            e.details["agency"],
            e.details["counter"],
            e.details["legal_basis"],
            e.at,
            e.seq,
        )
        for e in audit
        if e.event == DEEMED_EVENT and e.step_id is not None and e.attempt is not None
    ]
    await conn.executemany(
        "INSERT INTO supervision_tasks (registration_number, step_id, attempt, agency, counter,"
        " legal_basis, deemed_at, audit_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT DO NOTHING",
        rows,
    )


_SUPERVISION_COLUMNS = (
    "registration_number, step_id, attempt, agency, counter, legal_basis, deemed_at,"
    " closed_at, closed_by, note"
)


async def supervisions(conn: Conn, agencies: Sequence[str]) -> list[SupervisionRow]:
    """Open supervision tasks of ``agencies``, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_SUPERVISION_COLUMNS} FROM supervision_tasks"
        " WHERE closed_at IS NULL AND agency = ANY($1::text[]) ORDER BY deemed_at",
        list(agencies),
    )
    return [SupervisionRow(**dict(r)) for r in rows]


async def supervision(conn: Conn, reg: str, step_id: str) -> SupervisionRow | None:
    row = await conn.fetchrow(
        f"SELECT {_SUPERVISION_COLUMNS} FROM supervision_tasks"
        " WHERE registration_number = $1 AND step_id = $2 ORDER BY attempt DESC LIMIT 1",
        reg,
        step_id,
    )
    return SupervisionRow(**dict(row)) if row else None


async def close_supervision(
    conn: Conn, reg: str, step_id: str, attempt: int, *, closed_by: str, note: str
) -> SupervisionRow | None:
    """Close it once; None when it is closed already (a retry finds the first close)."""
    row = await conn.fetchrow(
        "UPDATE supervision_tasks SET closed_at = now(), closed_by = $4, note = $5"
        " WHERE registration_number = $1 AND step_id = $2 AND attempt = $3"
        f" AND closed_at IS NULL RETURNING {_SUPERVISION_COLUMNS}",
        reg,
        step_id,
        attempt,
        closed_by,
        note,
    )
    return SupervisionRow(**dict(row)) if row else None
