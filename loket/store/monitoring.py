"""Queries behind the administrators' stalled-work list and SLA report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loket.calendar import CalendarSnapshot
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
    median and p90 of the working time they used (pauses excluded)."""
    rows = await conn.fetch(
        """
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
        """,
        start,
        end,
        permit_type,
    )
    report = []
    for r in rows:
        item = dict(r)
        item["on_time_share"] = round(r["on_time"] / r["closed"], 4) if r["closed"] else None
        report.append(item)
    return report


async def escalation_history(conn: Conn, registration_number: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM escalations WHERE registration_number = $1 ORDER BY fired_at, step_id",
        registration_number,
    )
    return [dict(r) for r in rows]
