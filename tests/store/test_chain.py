"""Tamper evidence anchored outside the database (issue 9): a database administrator who
edits a row and recomputes every later hash, deletes the last row or a middle one, adds a
row, or changes a task outcome or a status behind the audit's back is caught, at the
sequence number where it happened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest_asyncio

from loket import audit_digest
from loket.case.audit import audit_hash, entry_hash
from loket.store.chain import chain_heads, check_chain, rewritten_since
from loket.store.db import create_pool
from loket.store.records import apply_batch
from workflows.messages import ApplicationRecord, AuditEntry, RecordBatch, TaskRecord

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
REG = "SIP-2026-000007"
EVENTS = [
    ("application_submitted", None, None, None, {}),
    ("step_opened", "registration", None, "open", {}),
    ("task_claimed", "registration", None, None, {"claimed_by": "rina"}),
    ("step_decided", "registration", "open", "done", {"outcome": "approve", "note": "ok"}),
    ("step_opened", "health_verification", None, "open", {}),
]


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_dsn)
    yield pool
    await pool.close()


def _task(step: str, state: str, outcome: str | None = None) -> TaskRecord:
    return TaskRecord(
        step_id=step,
        attempt=1,
        name=step,
        agency="dpmptsp",
        counter="front_office",
        state=state,
        opened_at=NOW,
        due_at=NOW + timedelta(days=1),  # type: ignore[arg-type]
        calendar_version="v",
        clock="running",
        outcome=outcome,
    )


async def _written(pool: asyncpg.Pool) -> list[str]:
    """Write a small file through the store; return the hashes the case computed."""
    entries = [
        AuditEntry(
            seq=i + 1,
            event=e,
            at=NOW,
            actor="rina",
            actor_role="staff",
            step_id=s,
            attempt=1 if s else None,
            from_state=f,
            to_state=t,
            details=d,
        )
        for i, (e, s, f, t, d) in enumerate(EVENTS)
    ]
    anchor: list[str] = []
    for entry in entries:
        anchor.append(entry_hash(anchor[-1] if anchor else "", REG, entry))
    await apply_batch(
        pool,
        RecordBatch(
            application=ApplicationRecord(
                registration_number=REG,
                permit_type="SIP",
                route_version=1,
                status="in_progress",
                data={},
                submitted_at=NOW,
                service_due_at=None,
                calendar_version="v",
                current_steps=("health_verification",),
                current_agencies=("dinkes",),
                waiting_for_applicant=False,
            ),
            tasks=(_task("registration", "done", "approve"), _task("health_verification", "open")),
            audit=tuple(entries),
        ),
    )
    return anchor


async def test_an_untouched_file_is_intact_anchored_or_not(pool: asyncpg.Pool) -> None:
    anchor = await _written(pool)
    async with pool.acquire() as conn:
        assert (await check_chain(conn, REG, anchor)).intact
        assert (await check_chain(conn, REG)).intact


async def test_a_rewrite_with_recomputed_hashes_is_caught_at_its_seq(pool: asyncpg.Pool) -> None:
    anchor = await _written(pool)
    async with pool.acquire() as conn:
        # The DBA's attack: change event 4's note, then recompute 4 and every later hash.
        await conn.execute(
            'UPDATE audit_events SET details = details || \'{"note": "diubah"}\''
            " WHERE registration_number = $1 AND seq = 4",
            REG,
        )
        prev = ""
        for row in await conn.fetch(
            "SELECT * FROM audit_events WHERE registration_number = $1 ORDER BY seq", REG
        ):
            entry = AuditEntry.model_validate({k: row[k] for k in AuditEntry.model_fields})
            digest = audit_hash(prev, REG, entry.model_dump(mode="json"))
            await conn.execute(
                "UPDATE audit_events SET prev_hash = $3, hash = $4"
                " WHERE registration_number = $1 AND seq = $2",
                REG,
                row["seq"],
                prev,
                digest,
            )
            prev = digest
        assert (await check_chain(conn, REG)).intact  # the database alone is fooled
        report = await check_chain(conn, REG, anchor)
        assert (report.altered, report.missing, report.added) == ([4, 5], [], [])


async def test_deleted_and_added_rows_are_named(pool: asyncpg.Pool) -> None:
    anchor = await _written(pool)
    async with pool.acquire() as conn:
        await conn.execute(
            "DELETE FROM audit_events WHERE registration_number = $1 AND seq = 5", REG
        )
        report = await check_chain(conn, REG, anchor)
        assert (report.missing, report.altered) == ([5], [])
        await conn.execute(
            "DELETE FROM audit_events WHERE registration_number = $1 AND seq = 3", REG
        )
        report = await check_chain(conn, REG, anchor)
        assert (report.missing, report.altered) == ([3, 5], [])
        await conn.execute(
            "INSERT INTO audit_events (registration_number, seq, event, at, actor, actor_role,"
            " details, prev_hash, hash) VALUES ($1, 9, 'step_decided', now(), 'x', 'staff',"
            " '{}', '', 'x')",
            REG,
        )
        assert (await check_chain(conn, REG, anchor)).added == [9]


async def test_state_changed_behind_the_audit_is_caught(pool: asyncpg.Pool) -> None:
    anchor = await _written(pool)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE tasks SET outcome = 'reject' WHERE registration_number = $1"
            " AND step_id = 'registration'",
            REG,
        )
        await conn.execute(
            "UPDATE applications SET status = 'approved' WHERE registration_number = $1", REG
        )
        report = await check_chain(conn, REG, anchor)
        assert report.state_mismatches == ["application", "task:registration#1"]
        assert not report.altered and not report.intact


async def test_a_signed_digest_shows_a_later_rewrite(pool: asyncpg.Pool) -> None:
    await _written(pool)
    private, public = audit_digest.new_key_pair()
    async with pool.acquire() as conn:
        signed = audit_digest.sign(
            audit_digest.digest_document(await chain_heads(conn), NOW), private
        )
        assert audit_digest.signature_valid(signed, public)
        assert await rewritten_since(conn, audit_digest.heads_of(signed)) == []
        await conn.execute(
            "UPDATE audit_events SET hash = 'rewritten' WHERE registration_number = $1 AND seq = 5",
            REG,
        )
        assert await rewritten_since(conn, audit_digest.heads_of(signed)) == [REG]
    forged = {**signed, "heads": [{**signed["heads"][0], "hash": "rewritten"}]}
    assert not audit_digest.signature_valid(forged, public)
    _, other_public = audit_digest.new_key_pair()
    assert not audit_digest.signature_valid(signed, other_public)
