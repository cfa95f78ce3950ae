"""The read-model writer: a batch applied twice writes once, one overlapping what is written
adds only its new events; the chain checks name the row whose hash, link or content was
changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest_asyncio

from loket.case.audit import entry_hash
from loket.store.chain import check_chain
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


async def _seqs(pool: asyncpg.Pool) -> list[int]:
    return [r["seq"] for r in await pool.fetch("SELECT seq FROM audit_events ORDER BY seq")]


def _anchor(*batches: RecordBatch) -> list[str]:
    """The hashes the case computed for these events: the workflow's own record."""
    hashes: list[str] = []
    for entry in (e for b in batches for e in b.audit):
        hashes.append(entry_hash(hashes[-1] if hashes else "", REG, entry))
    return hashes


async def test_a_batch_overlapping_what_is_written_adds_only_its_new_events(
    pool: asyncpg.Pool,
) -> None:
    opened = _batch(1, "open")
    assert await apply_batch(pool, opened) is True
    decided = _batch(3, "done")
    overlapping = decided.model_copy(update={"audit": opened.audit + decided.audit})
    assert await apply_batch(pool, overlapping) is True
    assert await _seqs(pool) == [1, 2, 3]
    assert await pool.fetchval("SELECT last_seq FROM applications") == 3
    async with pool.acquire() as conn:
        assert await verify_audit_chain(conn, REG) == []
        assert (await check_chain(conn, REG, _anchor(opened, decided))).altered == []


async def test_a_broken_prev_hash_link_is_named(pool: asyncpg.Pool) -> None:
    for batch in (_batch(1, "open"), _batch(3, "done")):
        assert await apply_batch(pool, batch) is True
    async with pool.acquire() as conn:
        assert await verify_audit_chain(conn, REG) == []
        assert (await check_chain(conn, REG)).altered == []
        # Only the stored link changes; every row's own hash still matches its content.
        await conn.execute("UPDATE audit_events SET prev_hash = $1 WHERE seq = 2", "f" * 64)
        assert await verify_audit_chain(conn, REG) == [2]
        assert (await check_chain(conn, REG)).altered == [2]


async def test_anchored_check_compares_stored_hash_and_content(pool: asyncpg.Pool) -> None:
    opened, decided = _batch(1, "open"), _batch(3, "done")
    for batch in (opened, decided):
        assert await apply_batch(pool, batch) is True
    anchor = _anchor(opened, decided)
    async with pool.acquire() as conn:
        report = await check_chain(conn, REG, anchor)
        assert (report.rows, report.missing, report.altered, report.added) == (3, [], [], [])
        # The stored hash replaced, the content untouched.
        stored = await conn.fetchval("SELECT hash FROM audit_events WHERE seq = 2")
        await conn.execute("UPDATE audit_events SET hash = $1 WHERE seq = 2", "e" * 64)
        assert (await check_chain(conn, REG, anchor)).altered == [2]
        await conn.execute("UPDATE audit_events SET hash = $1 WHERE seq = 2", stored)
        assert (await check_chain(conn, REG, anchor)).altered == []
        # The content changed, the stored hash left as it was.
        await conn.execute("UPDATE audit_events SET actor = 'someone else' WHERE seq = 3")
        assert (await check_chain(conn, REG, anchor)).altered == [3]
