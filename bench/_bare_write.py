"""The bare baseline with a durable write: ``handoff.py --bare-write``.

The same bare workflow (``bare_workflow.BareHandoffWorkflow``), but its activity, registered
under the same name ``bare_open_step``, commits one PostgreSQL transaction shaped like
Loket's record of a hand-off (``loket.store.records.apply_batch``): the application row
locked, upserted with its form data and chain head, the closed and the opened task rows
upserted, two hash-chained audit rows inserted. Six round trips: the core of Loket's
record (which adds the SLA summary's upkeep and the outbox, 9 round trips a hand-off), and
no routing, no search attributes, no notifications, no PDF.

What it measures: the floor a decision that is written durably before it answers cannot go
below, beside the bare baseline that writes nothing. Kept out of ``bare_workflow.py`` so that
the sandboxed bare workflow never imports asyncpg.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import asyncpg
from temporalio import activity

from loket.case.audit import audit_hash

SCHEMA = """
CREATE TABLE IF NOT EXISTS bare_applications (
    id text PRIMARY KEY, data jsonb NOT NULL, status text NOT NULL,
    last_seq integer NOT NULL, last_hash text NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS bare_tasks (
    id text NOT NULL, step integer NOT NULL, state text NOT NULL, opened_at timestamptz,
    closed_at timestamptz, PRIMARY KEY (id, step)
);
CREATE TABLE IF NOT EXISTS bare_audit (
    id text NOT NULL, seq integer NOT NULL, event text NOT NULL, at timestamptz NOT NULL,
    details jsonb NOT NULL, prev_hash text NOT NULL, hash text NOT NULL, PRIMARY KEY (id, seq)
);
"""

# About the size of a SIP application's form data in Loket's applications row.
_DATA = json.dumps(
    {
        "nama": "dr. Siti Rahayu",
        "nik": "3316014101900001",
        "str_number": "3311100123456789",
        "practice_address": "Jl. Pemuda 12, Kelurahan Kauman, Kecamatan Blora, Kabupaten Blora",
        "practice_kind": "dokter umum",
        "schedule": "Senin-Jumat 16.00-20.00",
        "phone": "+6281234567890",
        "email": "siti.rahayu@example.id",
        "facility": "Klinik Pratama Sehat Bersama",
        "recommendation_number": "IDI/BLR/2026/0123",
    }
)


class BareWrite:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_schema(self) -> None:
        await self._pool.execute(SCHEMA)

    @activity.defn(name="bare_open_step")
    async def open_step(self, step: int) -> float:
        """Close step ``step - 1``, open ``step``, in one transaction; the instant it ran."""
        key = activity.info().workflow_id
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            head = await conn.fetchrow(
                "SELECT last_seq, last_hash FROM bare_applications WHERE id = $1 FOR UPDATE", key
            )
            seq, prev = (head["last_seq"], head["last_hash"]) if head else (0, "")
            audit = []
            for event in ("step_decided", "step_opened"):
                seq += 1
                row: dict[str, object] = {"seq": seq, "event": event, "step": step}
                digest = audit_hash(prev, key, row)  # Loket's own chain hash
                audit.append((key, seq, event, now, json.dumps(row), prev, digest))
                prev = digest
            await conn.execute(
                """
                INSERT INTO bare_applications AS a VALUES ($1, $2, 'in_review', $3, $4, $5)
                ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, last_seq = EXCLUDED.last_seq,
                    last_hash = EXCLUDED.last_hash, updated_at = EXCLUDED.updated_at
                """,
                key,
                _DATA,
                seq,
                prev,
                now,
            )
            await conn.executemany(
                """
                INSERT INTO bare_tasks AS t VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (id, step) DO UPDATE SET state = EXCLUDED.state,
                    closed_at = EXCLUDED.closed_at
                """,
                [(key, step - 1, "done", None, now), (key, step, "open", now, None)],
            )
            await conn.executemany(
                "INSERT INTO bare_audit VALUES ($1, $2, $3, $4, $5, $6, $7)", audit
            )
        return time.time()
