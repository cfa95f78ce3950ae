"""The notification outbox: rows written with the state change that caused them, marked
delivered by the delivery activity."""

from __future__ import annotations

from typing import Any

import asyncpg


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
