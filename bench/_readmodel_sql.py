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


# The SLA report's statement before its summary (migration 015), timed beside it and
# compared with it at full size (``readmodel.py`` with ``sla_year``); the tests keep their
# own copy as their oracle (tests/store/test_sla_summary.py).
OLD_SLA = """
SELECT t.agency, t.counter, a.permit_type, t.step_id, min(t.name) AS name,
       count(*) AS closed,
       count(*) FILTER (WHERE t.due_at IS NULL OR t.closed_at <= t.due_at) AS on_time,
       count(*) FILTER (WHERE t.closed_at > t.due_at) AS late,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.used_working_s) AS median_working_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY t.used_working_s) AS p90_working_s,
       max(t.escalation_level) AS max_escalation_level
FROM tasks t JOIN applications a USING (registration_number)
WHERE t.state = 'done' AND t.closed_at >= $1 AND t.closed_at < $2
  AND ($3::text IS NULL OR a.permit_type = $3)
GROUP BY t.agency, t.counter, a.permit_type, t.step_id
ORDER BY t.agency, t.counter, a.permit_type, t.step_id
"""


async def old_sla(conn: Conn, start: Any, end: Any, permit_type: str | None) -> list[Any]:
    report = []
    for r in await conn.fetch(OLD_SLA, start, end, permit_type):
        item = dict(r)
        item["on_time_share"] = round(r["on_time"] / r["closed"], 4) if r["closed"] else None
        report.append(item)
    return report
