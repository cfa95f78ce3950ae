"""Open tasks written through the store's own writer (``apply_batch``), for the paged
inbox and stalled list: one application per task, a deadline (or none: paused) of the
test's choosing, so ties on the deadline are easy to make."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import asyncpg

from loket.store.records import apply_batch
from workflows.messages import ApplicationRecord, AuditEntry, RecordBatch, TaskRecord

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB
_numbers = itertools.count(1)


def _batch(
    reg: str,
    seq: int,
    state: str,
    due_at: datetime | None,
    agency: str,
    counter: str,
    escalation_level: int,
) -> RecordBatch:
    task = TaskRecord(
        step_id="registration",
        attempt=1,
        name="Pendaftaran",
        agency=agency,
        counter=counter,
        state=state,  # type: ignore[arg-type]
        opened_at=NOW - timedelta(days=3),
        due_at=due_at,
        calendar_version="blora-test",
        clock="running" if due_at is not None else "paused",
        outcome="approve" if state == "done" else None,
        closed_at=NOW if state == "done" else None,
        escalation_level=escalation_level,
    )
    return RecordBatch(
        application=ApplicationRecord(
            registration_number=reg,
            permit_type="SIP",
            route_version=1,
            status="in_progress",
            data={},
            submitted_at=NOW - timedelta(days=3),
            service_due_at=None,
            calendar_version="blora-test",
            current_steps=("registration",),
            current_agencies=(agency,),
            waiting_for_applicant=False,
        ),
        tasks=(task,),
        audit=(
            AuditEntry(
                seq=seq,
                event="step_opened" if state == "open" else "step_decided",
                at=NOW,
                actor="loket",
                actor_role="system",
                step_id="registration",
            ),
        ),
    )


async def open_task(
    pool: asyncpg.Pool,
    due_at: datetime | None,
    *,
    agency: str = "dpmptsp",
    counter: str = "front_office",
    escalation_level: int = 0,
) -> str:
    """A new application with one open task; returns its registration number."""
    reg = f"SIP-2026-{900000 + next(_numbers):06d}"
    batch = _batch(reg, 1, "open", due_at, agency, counter, escalation_level)
    assert await apply_batch(pool, batch)
    return reg


async def close_task(
    pool: asyncpg.Pool, reg: str, *, agency: str = "dpmptsp", counter: str = "front_office"
) -> None:
    batch = _batch(reg, 2, "done", NOW, agency, counter, 0)
    assert await apply_batch(pool, batch)
