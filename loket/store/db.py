"""The asyncpg pool: JSON columns decoded to Python, one place that creates it."""

from __future__ import annotations

import json

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Released connections keep their session: the store leaves no session state behind
    (locks are transaction-scoped, nothing is SET, the dispatcher LISTENs on its own
    connection), so asyncpg's default reset (a RESET ALL / UNLISTEN / unlock round trip on
    every release) would only cost: 3 % of the worker's samples in bench/handoff.py's
    profile."""
    del conn


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, reset=_keep_session
    )
    assert pool is not None
    return pool


# What `pool.acquire()` yields and what `asyncpg.connect()` returns: queries take either.
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
