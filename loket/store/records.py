"""Writes the workflow's state changes into the read model, idempotently.

One batch is one transaction. The application row's ``last_seq`` tells which audit events
are already written: a retried activity finds its batch applied and writes nothing, so no
task row or audit event is ever duplicated. Audit events form a hash chain.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from loket.case.audit import audit_hash
from loket.case.messages import AuditEntry, RecordBatch
from loket.store import outbox, permits, sla
from loket.store.billing import write_bills
from loket.store.chain import audit_rows, internal_breaks
from loket.store.complaints import open_supervisions
from loket.store.db import Conn
from loket.store.documents import record_documents


def _hashable(entry: AuditEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


_UPSERT_APPLICATION = """
INSERT INTO applications AS a (
    registration_number, permit_type, route_version, status, data, submitted_at,
    service_due_at, calendar_version, current_steps, current_agencies,
    waiting_for_applicant, fees, fee_total, finished_at, last_seq, last_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (registration_number) DO UPDATE SET
    status = EXCLUDED.status, data = EXCLUDED.data, service_due_at = EXCLUDED.service_due_at,
    current_steps = EXCLUDED.current_steps, current_agencies = EXCLUDED.current_agencies,
    waiting_for_applicant = EXCLUDED.waiting_for_applicant, fees = EXCLUDED.fees,
    fee_total = EXCLUDED.fee_total, finished_at = EXCLUDED.finished_at,
    last_seq = EXCLUDED.last_seq, last_hash = EXCLUDED.last_hash, updated_at = now()
"""

_UPSERT_TASK = """
INSERT INTO tasks AS t (
    registration_number, step_id, attempt, name, agency, counter, state, clock, opened_at,
    due_at, calendar_version, claimed_by, outcome, note, decided_by, closed_at, escalation_level,
    used_working_s)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
ON CONFLICT (registration_number, step_id, attempt) DO UPDATE SET
    state = EXCLUDED.state, due_at = EXCLUDED.due_at, claimed_by = EXCLUDED.claimed_by,
    outcome = COALESCE(EXCLUDED.outcome, t.outcome), note = COALESCE(EXCLUDED.note, t.note),
    decided_by = COALESCE(EXCLUDED.decided_by, t.decided_by),
    closed_at = EXCLUDED.closed_at, escalation_level = EXCLUDED.escalation_level,
    used_working_s = EXCLUDED.used_working_s, updated_at = now()
"""

_INSERT_AUDIT = """
INSERT INTO audit_events (
    registration_number, seq, event, at, actor, actor_role, step_id, attempt, from_state,
    to_state, details, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""


_INSERT_ESCALATION = """
INSERT INTO escalations (registration_number, step_id, attempt, rule_index, action, recipient,
    level, due_at, fired_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING
"""

_INSERT_NOTIFICATION = """
INSERT INTO notification_outbox (key, registration_number, kind, recipient, payload, created_at,
    dispatch_at)
VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END)
ON CONFLICT (key) DO NOTHING
"""


async def apply_batch(pool: asyncpg.Pool, batch: RecordBatch) -> bool:
    """Write ``batch``; returns False when it was already written (a retry)."""
    app = batch.application
    reg = app.registration_number
    async with pool.acquire() as conn, conn.transaction():
        head = await conn.fetchrow(
            "SELECT last_seq, last_hash FROM applications WHERE registration_number = $1 FOR UPDATE",
            reg,
        )
        last_seq, last_hash = (head["last_seq"], head["last_hash"]) if head else (0, "")
        if batch.audit and batch.audit[-1].seq <= last_seq:
            return False
        await permits.record_issued(conn, batch, last_seq)  # issued permit (issue 10 §2)
        # The chain's new head goes into the application's upsert: one statement fewer.
        rows, head_seq, head_hash = _chained(reg, batch, last_seq, last_hash)
        fees = app.fees.model_dump(mode="json") if app.fees else None
        await conn.execute(
            _UPSERT_APPLICATION,
            reg,
            app.permit_type,
            app.route_version,
            app.status,
            app.data,
            app.submitted_at,
            app.service_due_at,
            app.calendar_version,
            list(app.current_steps),
            list(app.current_agencies),
            app.waiting_for_applicant,
            fees,
            app.fees.total if app.fees else None,
            app.finished_at,
            head_seq,
            head_hash,
        )
        await conn.executemany(
            _UPSERT_TASK,
            [
                (
                    reg,
                    t.step_id,
                    t.attempt,
                    t.name,
                    t.agency,
                    t.counter,
                    t.state,
                    t.clock,
                    t.opened_at,
                    t.due_at,
                    t.calendar_version,
                    t.claimed_by,
                    t.outcome,
                    t.note,
                    t.decided_by,
                    t.closed_at,
                    t.escalation_level,
                    t.used_working_s,
                )
                for t in batch.tasks
            ],
        )
        # The SLA summary (issue 13 goal 6) follows the task rows in this transaction.
        await sla.record_closings(conn, reg, sorted({t.step_id for t in batch.tasks}))
        await conn.executemany(_INSERT_AUDIT, rows)
        await conn.executemany(
            _INSERT_ESCALATION,
            [
                (
                    reg,
                    e.step_id,
                    e.attempt,
                    e.rule_index,
                    e.action,
                    e.recipient,
                    e.level,
                    e.due_at,
                    e.fired_at,
                )
                for e in batch.escalations
            ],
        )
        await conn.executemany(
            _INSERT_NOTIFICATION,
            [
                (n.key, reg, n.kind, n.recipient, n.payload, n.created_at, batch.dispatch)
                for n in batch.notifications
            ],
        )
        if batch.dispatch and batch.notifications:
            await outbox.wake_dispatchers(conn)  # delivered on commit
        await open_supervisions(conn, reg, batch.audit)
        await write_bills(conn, reg, batch.bills)
        await record_documents(conn, reg, batch)
        return True


def _chained(
    reg: str, batch: RecordBatch, last_seq: int, last_hash: str
) -> tuple[list[tuple[Any, ...]], int, str]:
    """The audit rows the batch adds after ``last_seq``, each hashed onto the one before,
    and the chain's new head (sequence number, hash)."""
    rows: list[tuple[Any, ...]] = []
    for entry in batch.audit:
        if entry.seq <= last_seq:
            continue
        digest = audit_hash(last_hash, reg, _hashable(entry))
        rows.append(
            (
                reg,
                entry.seq,
                entry.event,
                entry.at,
                entry.actor,
                entry.actor_role,
                entry.step_id,
                entry.attempt,
                entry.from_state,
                entry.to_state,
                entry.details,
                last_hash,
                digest,
            )
        )
        last_seq, last_hash = entry.seq, digest
    return rows, last_seq, last_hash


async def verify_audit_chain(conn: Conn, registration_number: str) -> list[int]:
    """Sequence numbers whose hash does not match their content: empty when intact."""
    return internal_breaks(registration_number, await audit_rows(conn, registration_number))
