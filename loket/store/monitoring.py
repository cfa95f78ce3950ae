"""Queries behind the administrators' stalled-work list and SLA report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from loket.calendar import CalendarSnapshot
from loket.store import paging, sla
from loket.store.db import Conn


async def open_steps_needing_attention(conn: Conn, now: datetime) -> list[dict[str, Any]]:
    """Open steps past their deadline or escalated, across every agency."""
    rows = await conn.fetch(
        """
        SELECT t.registration_number, a.permit_type, t.step_id, t.name, t.agency, t.counter,
               t.attempt, t.state, t.opened_at, t.due_at, t.claimed_by, t.escalation_level,
               t.calendar_version
        FROM tasks t JOIN applications a USING (registration_number)
        WHERE t.state IN ('open', 'returned')
          AND (t.due_at < $1 OR t.escalation_level > 0)
        """,
        now,
    )
    return [dict(r) for r in rows]


# --- the stalled list, paged (issue 13 goal 6) ---------------------------------------------
# Two runs, each in the order of its index (migration 015): first the steps past their
# deadline, earliest deadline first (the most working time overdue), higher escalation
# level first among equal deadlines; then the escalated steps not yet due (paused ones
# first), highest level first. A key is (run, a, b, task id): run 1 (due, -level, id), run
# 2 (-level, due, id). Pages after a key never repeat or skip a row that stays put.

_STALLED_COLUMNS = """
    t.id, t.registration_number, a.permit_type, t.step_id, t.name, t.agency, t.counter,
    t.attempt, t.state, t.opened_at, t.due_at, t.claimed_by, t.escalation_level,
    t.calendar_version
"""
_OVERDUE = f"""
SELECT {_STALLED_COLUMNS}
FROM (SELECT t.id FROM tasks t
      WHERE t.state IN ('open', 'returned') AND t.due_at < $1
        AND (t.due_at, -t.escalation_level, t.id) > ($2, $3, $4)
      ORDER BY t.due_at, -t.escalation_level, t.id LIMIT $5) p
JOIN tasks t ON t.id = p.id JOIN applications a ON a.registration_number = t.registration_number
ORDER BY t.due_at, -t.escalation_level, t.id
"""
_ESCALATED_DUE_KEY = "COALESCE(t.due_at, '-infinity'::timestamptz)"
_ESCALATED = f"""
SELECT {_STALLED_COLUMNS}
FROM (SELECT t.id FROM tasks t
      WHERE t.state IN ('open', 'returned') AND t.escalation_level > 0
        AND (t.due_at >= $1 OR t.due_at IS NULL)
        AND (-t.escalation_level, {_ESCALATED_DUE_KEY}, t.id)
            > ($3, COALESCE($2::timestamptz, '-infinity'::timestamptz), $4)
      ORDER BY -t.escalation_level, {_ESCALATED_DUE_KEY}, t.id LIMIT $5) p
JOIN tasks t ON t.id = p.id JOIN applications a ON a.registration_number = t.registration_number
ORDER BY -t.escalation_level, {_ESCALATED_DUE_KEY}, t.id
"""
_FIRST = (1, paging.micros(datetime(1, 1, 1, tzinfo=UTC)), -(2**31), 0)
_FIRST_ESCALATED = (2, -(2**31), None, 0)
StalledKey = tuple[int | None, ...]


def stalled_key(row: Mapping[str, Any], now: datetime) -> StalledKey:
    """The key of a row :func:`stalled_candidates` returned, for the cursor after it."""
    due = row["due_at"]
    due_us = None if due is None else paging.micros(due)
    if due is not None and due < now:
        return (1, due_us, -row["escalation_level"], row["id"])
    return (2, -row["escalation_level"], due_us, row["id"])


def stalled_after(cursor: str | None) -> StalledKey:
    """The key a cursor names; :class:`paging.CursorInvalid` if it is not one."""
    if cursor is None:
        return _FIRST
    run, a, b, task_id = key = paging.decode(cursor, 4)
    level, due = (b, a) if run == 1 else (a, b)
    valid = (
        run in (1, 2)
        and task_id is not None
        and task_id >= 0
        and level is not None
        and -(2**31) <= level < 2**31  # escalation_level is an integer column
        and (due is not None or run == 2)  # only an escalated step may be paused
    )
    if not valid:
        raise paging.CursorInvalid(cursor)
    if due is not None:
        paging.instant(due)  # within the calendar, or CursorInvalid
    return key


async def stalled_candidates(
    conn: Conn, now: datetime, after: StalledKey, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` open steps after the key ``after`` that may be stalled at ``now``:
    past their deadline (in wall time: the caller counts working time) or escalated."""
    rows: list[dict[str, Any]] = []
    run, a, b, task_id = after
    if run == 1:
        assert a is not None
        found = await conn.fetch(_OVERDUE, now, paging.instant(a), b, task_id, limit)
        rows = [dict(r) for r in found]
        if len(rows) == limit:
            return rows
        run, a, b, task_id = _FIRST_ESCALATED
    due = None if b is None else paging.instant(b)
    found = await conn.fetch(_ESCALATED, now, due, a, task_id, limit - len(rows))
    return rows + [dict(r) for r in found]


async def remember_calendar(conn: Conn, snapshot: CalendarSnapshot) -> None:
    """Keep every calendar version a deadline was computed with: inspectors recompute."""
    await conn.execute(
        "INSERT INTO calendars (version, snapshot) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        snapshot.version,
        snapshot.model_dump(mode="json"),
    )


async def calendar_snapshot(conn: Conn, version: str) -> CalendarSnapshot | None:
    snapshot = await conn.fetchval("SELECT snapshot FROM calendars WHERE version = $1", version)
    return None if snapshot is None else CalendarSnapshot.model_validate(snapshot)


async def sla_compliance(
    conn: Conn, start: datetime, end: datetime, permit_type: str | None = None
) -> list[dict[str, Any]]:
    """Per agency, counter and step: steps closed in [start, end), on time or late, and the
    median and p90 of the working time they used (pauses excluded); from the summary."""
    return await sla.sla_compliance(conn, start, end, permit_type)


async def escalation_history(conn: Conn, registration_number: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM escalations WHERE registration_number = $1 ORDER BY fired_at, step_id",
        registration_number,
    )
    return [dict(r) for r in rows]
