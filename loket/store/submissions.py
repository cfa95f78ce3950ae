"""Submissions: registration numbers and access codes, one per idempotency key."""

from __future__ import annotations

from dataclasses import dataclass

from loket.store.db import Conn


@dataclass(frozen=True)
class Registration:
    registration_number: str
    access_code_hash: str
    created: bool  # False: the key was seen before, this is its first registration


async def next_registration_number(conn: Conn, permit_type: str, year: int) -> str:
    value = await conn.fetchval(
        """
        INSERT INTO registration_counters (permit_type, year, last_value) VALUES ($1, $2, 1)
        ON CONFLICT (permit_type, year)
        DO UPDATE SET last_value = registration_counters.last_value + 1
        RETURNING last_value
        """,
        permit_type,
        year,
    )
    return f"{permit_type}-{year}-{value:06d}"


async def register(
    conn: Conn, idempotency_key: str, permit_type: str, year: int, access_code_hash: str
) -> Registration:
    """The registration of ``idempotency_key``: the one made before, else a new one.

    Same-key requests are serialized by an advisory lock, so a double submission burns no
    registration number."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", idempotency_key)
        row = await conn.fetchrow(
            "SELECT registration_number, access_code_hash FROM submissions"
            " WHERE idempotency_key = $1",
            idempotency_key,
        )
        if row is not None:
            return Registration(row["registration_number"], row["access_code_hash"], False)
        reg = await next_registration_number(conn, permit_type, year)
        await conn.execute(
            "INSERT INTO submissions (idempotency_key, registration_number, permit_type,"
            " access_code_hash) VALUES ($1, $2, $3, $4)",
            idempotency_key,
            reg,
            permit_type,
            access_code_hash,
        )
        return Registration(reg, access_code_hash, True)


async def access_code_hash(conn: Conn, registration_number: str) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT access_code_hash FROM submissions WHERE registration_number = $1",
        registration_number,
    )
    return value
