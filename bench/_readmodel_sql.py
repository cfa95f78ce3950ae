"""The statements a read runs, captured and explained (``readmodel.py --explain``).

A :class:`Recorder` stands in for the asyncpg connection a store function is given (or,
through :meth:`Recorder.as_pool`, for the pool a service acquires from): it passes every
query on to the real connection and remembers its text and arguments.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any

from loket.store.db import Conn


class Recorder:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn
        self.statements: list[tuple[str, tuple[Any, ...]]] = []
        self.sql_s = 0.0  # time spent waiting for the statements (the rest is Python)

    async def _timed(self, method: Any, sql: str, args: tuple[Any, ...]) -> Any:
        self.statements.append((sql, args))
        started = time.perf_counter()
        try:
            return await method(sql, *args)
        finally:
            self.sql_s += time.perf_counter() - started

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        rows: list[Any] = await self._timed(self._conn.fetch, sql, args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._timed(self._conn.fetchrow, sql, args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._timed(self._conn.fetchval, sql, args)

    def as_pool(self) -> _Pool:
        return _Pool(self)


class _Pool:
    """What ``Services.acquire`` needs of a pool: ``acquire(timeout=...)``."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def acquire(
        self, timeout: float | None = None
    ) -> contextlib.AbstractAsyncContextManager[Recorder]:
        del timeout  # the recorded connection is already held
        return contextlib.nullcontext(self._recorder)


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
