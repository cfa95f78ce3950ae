"""The read-model counts behind Loket's gauges (loket/metrics.py): steps overdue by agency
and the notification outbox's backlog. Cheap: both use partial indexes on open rows."""

from __future__ import annotations

from datetime import datetime

from loket.store.db import Conn


async def steps_overdue_by_agency(conn: Conn, now: datetime) -> dict[str, int]:
    rows = await conn.fetch(
        """
        SELECT agency, count(*) AS n FROM tasks
        WHERE state IN ('open', 'returned') AND due_at < $1
        GROUP BY agency
        """,
        now,
    )
    return {r["agency"]: int(r["n"]) for r in rows}


async def outbox_backlog_by_kind(conn: Conn) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT kind, count(*) AS n FROM notification_outbox WHERE delivered_at IS NULL GROUP BY kind"
    )
    return {r["kind"]: int(r["n"]) for r in rows}
