"""The statements a read runs, captured and explained (``readmodel.py --explain``).

A :class:`Recorder` stands in for the asyncpg connection a store function is given (or,
through :meth:`Recorder.as_pool`, for the pool a service acquires from): it passes every
query on to the real connection and remembers its text and arguments.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from loket.store.db import Conn


class Recorder:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.statements.append((sql, args))
        return await self._conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        self.statements.append((sql, args))
        return await self._conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.statements.append((sql, args))
        return await self._conn.fetchval(sql, *args)

    def as_pool(self) -> _Pool:
        return _Pool(self)


class _Pool:
    """What ``Services.acquire`` needs of a pool: ``acquire(timeout=...)``."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    @contextlib.asynccontextmanager
    async def acquire(self, timeout: float | None = None) -> AsyncIterator[Recorder]:
        del timeout
        yield self._recorder


_ESSENTIAL = ("Planning Time", "Execution Time")


async def explain_all(conn: Conn, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of each distinct statement, with its arguments."""
    out: list[str] = []
    seen: set[str] = set()
    for sql, args in statements:
        if sql in seen:
            continue
        seen.add(sql)
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
        first = " ".join(sql.split())[:160]
        out.append(f"--- {first}")
        out += [r[0] for r in rows]
    return "\n".join(out)
