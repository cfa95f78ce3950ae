"""The notification outbox: rows written with the state change that caused them.

Two ways out. Rows of workflows on the dispatch path (``dispatch_at`` set, issue 13) are
claimed by the workers' dispatcher (``activities/dispatcher.py``); rows of workflows started
before it are delivered by one activity each, as before. Either way a row is marked
delivered once, and the webhook's and channels' own idempotency keys cover the rare repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from loket.store.db import Conn

# pg_notify channel: a commit that wrote dispatchable rows wakes the dispatchers at once.
WAKE_CHANNEL = "loket_outbox"


@dataclass(frozen=True)
class Claimed:
    key: str
    registration_number: str
    recipient: str
    attempt: int  # 1 for the first dispatch of this row


async def pending(pool: asyncpg.Pool, key: str) -> dict[str, Any] | None:
    """The notification ``key`` if it still waits for delivery, else None."""
    row = await pool.fetchrow(
        "SELECT key, kind, recipient, payload, delivered_at FROM notification_outbox WHERE key = $1",
        key,
    )
    if row is None or row["delivered_at"] is not None:
        return None
    return dict(row)


async def mark_attempt(pool: asyncpg.Pool, key: str, error: str | None) -> None:
    if error is None:
        await pool.execute(
            "UPDATE notification_outbox SET attempts = attempts + 1, delivered_at = now(),"
            " last_error = NULL WHERE key = $1",
            key,
        )
    else:
        await pool.execute(
            "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2 WHERE key = $1",
            key,
            error[:1000],
        )


async def wake_dispatchers(conn: Conn) -> None:
    """Inside the writing transaction: PostgreSQL sends it on commit, never before."""
    await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)


async def claim_due(pool: asyncpg.Pool, limit: int, lease_s: float) -> list[Claimed]:
    """Take up to ``limit`` due rows for ``lease_s`` seconds. SKIP LOCKED: concurrent
    dispatchers take disjoint rows; a lease that ran out (its dispatcher died) is due again."""
    rows = await pool.fetch(
        """
        UPDATE notification_outbox o
        SET claimed_until = now() + make_interval(secs => $2),
            dispatch_attempts = o.dispatch_attempts + 1
        WHERE o.key IN (
            SELECT key FROM notification_outbox
            WHERE delivered_at IS NULL AND dispatch_at <= now()
              AND (claimed_until IS NULL OR claimed_until < now())
            ORDER BY dispatch_at
            LIMIT $1
            FOR UPDATE SKIP LOCKED)
        RETURNING o.key, o.registration_number, o.recipient, o.dispatch_attempts
        """,
        limit,
        float(lease_s),
    )
    return [
        Claimed(r["key"], r["registration_number"], r["recipient"], int(r["dispatch_attempts"]))
        for r in rows
    ]


async def release(pool: asyncpg.Pool, key: str, retry_in_s: float) -> None:
    """The dispatcher is done with ``key`` for now: due again in ``retry_in_s`` seconds
    unless it was delivered meanwhile (a delivered row is never claimed again)."""
    await pool.execute(
        "UPDATE notification_outbox SET claimed_until = NULL,"
        " dispatch_at = now() + make_interval(secs => $2) WHERE key = $1",
        key,
        float(retry_in_s),
    )
