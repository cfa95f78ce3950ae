"""Reads behind the published performance: counts per permit type and month, finished
applications with their service-clock events, and the working time each counter held.

Months are the mall's local months: instants are shifted by the calendar's UTC offset
(Indonesian zones have no daylight saving) before they are truncated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loket.store.db import Conn

# The local month of a timestamptz column, as 'YYYY-MM'; $3 is the UTC offset in hours.
_MONTH = "to_char(({col} AT TIME ZONE 'UTC') + make_interval(hours => $3), 'YYYY-MM')"


def _month(column: str) -> str:
    return _MONTH.format(col=column)


# Counts per permit type and month over [$1, $2): besides those two, each query's columns
# are summed into the published figure of the same name.
_COUNTS: dict[str, str] = {
    # applications submitted
    "received": f"""
        SELECT permit_type, {_month("submitted_at")} AS month, count(*) AS received
        FROM applications WHERE submitted_at >= $1 AND submitted_at < $2
        GROUP BY 1, 2
        """,
    # files returned to applicants, and how many applications they were
    "returns": f"""
        SELECT a.permit_type, {_month("e.at")} AS month, count(*) AS returns,
               count(DISTINCT e.registration_number) AS returned_applications
        FROM audit_events e JOIN applications a USING (registration_number)
        WHERE e.event = 'step_returned' AND e.at >= $1 AND e.at < $2
        GROUP BY 1, 2
        """,
    # bills (SKRD) issued: a fee assessed with a total above zero
    "fees_billed": f"""
        SELECT a.permit_type, {_month("e.at")} AS month, count(*) AS fees_billed_count,
               sum((e.details->>'total')::bigint) AS fees_billed_amount
        FROM audit_events e JOIN applications a USING (registration_number)
        WHERE e.event = 'fees_assessed' AND (e.details->>'total')::bigint > 0
          AND e.at >= $1 AND e.at < $2
        GROUP BY 1, 2
        """,
    # bills paid. Until payments are recorded on their own, the read model knows a payment
    # by its step: a step whose clock waits for the applicant's payment (``clock: paused``)
    # closed with ``approve``.
    "fees_collected": f"""
        SELECT a.permit_type, {_month("t.closed_at")} AS month,
               count(*) AS fees_collected_count, sum(a.fee_total) AS fees_collected_amount
        FROM tasks t JOIN applications a USING (registration_number)
        WHERE t.state = 'done' AND t.clock = 'paused' AND t.outcome = 'approve'
          AND a.fee_total > 0 AND t.closed_at >= $1 AND t.closed_at < $2
        GROUP BY 1, 2
        """,
}


async def monthly_counts(
    conn: Conn, start: datetime, end: datetime, offset_h: int
) -> list[dict[str, Any]]:
    """Rows of every count in [start, end), each with its permit type and month."""
    found: list[dict[str, Any]] = []
    for sql in _COUNTS.values():
        found += [dict(r) for r in await conn.fetch(sql, start, end, offset_h)]
    return found


async def finished(conn: Conn, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Applications decided in [start, end), with their service clock's pause events."""
    rows = await conn.fetch(
        """
        SELECT a.permit_type, a.submitted_at, a.finished_at, a.service_due_at,
               a.calendar_version, a.fees, a.fee_total,
               array_agg(e.event ORDER BY e.seq) FILTER (WHERE e.seq IS NOT NULL)
                   AS clock_events,
               array_agg(e.at ORDER BY e.seq) FILTER (WHERE e.seq IS NOT NULL) AS clock_times
        FROM applications a
        LEFT JOIN audit_events e ON e.registration_number = a.registration_number
             AND e.event IN ('service_clock_paused', 'service_clock_resumed')
        WHERE a.status IN ('approved', 'rejected')
          AND a.finished_at >= $1 AND a.finished_at < $2
        GROUP BY a.registration_number
        """,
        start,
        end,
    )
    return [dict(r) for r in rows]


async def counter_time(
    conn: Conn, start: datetime, end: datetime, offset_h: int
) -> list[dict[str, Any]]:
    """Per counter and month: steps closed in [start, end) and the median working time
    they were held (pauses excluded, as written when each step closed)."""
    rows = await conn.fetch(
        f"""
        SELECT t.agency, t.counter, {_month("t.closed_at")} AS month,
               count(*) AS steps_closed,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY t.used_working_s)
                   AS median_working_s
        FROM tasks t
        WHERE t.state = 'done' AND t.used_working_s IS NOT NULL
          AND t.closed_at >= $1 AND t.closed_at < $2
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        """,
        start,
        end,
        offset_h,
    )
    return [dict(r) for r in rows]


async def data_version(conn: Conn) -> tuple[Any, ...]:
    """Changes whenever anything the figures read changes: every record batch touches its
    application row (``updated_at``), and survey responses are only ever added. Names the
    database too, so that a process serving another one never shares a cached report."""
    row = await conn.fetchrow(
        """
        SELECT current_database() AS db, pg_postmaster_start_time() AS started,
               (SELECT max(updated_at) FROM applications) AS applications,
               (SELECT count(*) FROM applications) AS application_count,
               (SELECT max(updated_at) FROM tasks) AS tasks,
               (SELECT count(*) FROM survey_responses) AS responses
        """
    )
    return tuple(row.values()) if row is not None else ()
