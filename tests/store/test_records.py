"""The read-model writer: a batch applied twice writes once; the audit chain holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest_asyncio

from loket.store.db import create_pool
from loket.store.records import apply_batch, verify_audit_chain
from workflows.messages import ApplicationRecord, AuditEntry, RecordBatch, TaskRecord

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
REG = "SIP-2026-000001"


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_dsn)
    yield pool
    await pool.close()


def _batch(first_seq: int, state: str, *, step: str = "registration") -> RecordBatch:
    task = TaskRecord(
        step_id=step,
        attempt=1,
        name="Pendaftaran",
        agency="dpmptsp",
        counter="front_office",
        state=state,  # type: ignore[arg-type]
        opened_at=NOW,
        due_at=NOW + timedelta(days=1),
        calendar_version="blora-test",
        clock="running",
        outcome="approve" if state == "done" else None,
    )
    return RecordBatch(
        application=ApplicationRecord(
            registration_number=REG,
            permit_type="SIP",
            route_version=1,
            status="in_progress",
            data={"profession": "dokter"},
            submitted_at=NOW,
            service_due_at=NOW + timedelta(days=7),
            calendar_version="blora-test",
            current_steps=(step,),
            current_agencies=("dpmptsp",),
            waiting_for_applicant=False,
        ),
        tasks=(task,),
        audit=tuple(
            AuditEntry(
                seq=first_seq + i, event=e, at=NOW, actor="rina", actor_role="staff", step_id=step
            )
            for i, e in enumerate(
                ["step_opened", "task_claimed"] if state == "open" else ["step_decided"]
            )
        ),
    )


async def test_a_retried_batch_writes_nothing_twice(pool: asyncpg.Pool) -> None:
    opened = _batch(1, "open")
    assert await apply_batch(pool, opened) is True
    assert await apply_batch(pool, opened) is False  # the activity retried after a crash
    decided = _batch(3, "done")
    assert await apply_batch(pool, decided) is True
    assert await apply_batch(pool, decided) is False
    assert await apply_batch(pool, opened) is False  # an old batch never rolls state back

    tasks = await pool.fetch("SELECT step_id, state, outcome FROM tasks")
    assert [(t["step_id"], t["state"], t["outcome"]) for t in tasks] == [
        ("registration", "done", "approve")
    ]
    seqs = [r["seq"] for r in await pool.fetch("SELECT seq FROM audit_events ORDER BY seq")]
    assert seqs == [1, 2, 3]
    async with pool.acquire() as conn:
        assert await verify_audit_chain(conn, REG) == []
        await conn.execute("UPDATE audit_events SET actor = 'someone else' WHERE seq = 2")
        assert await verify_audit_chain(conn, REG) == [2]  # the altered event is named
