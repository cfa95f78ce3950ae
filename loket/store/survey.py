"""Survey responses (SKM): written once per respondent, read back per service and period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from loket.case.survey import ELEMENTS
from loket.store.db import Conn

_COLUMNS = ", ".join(ELEMENTS)
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(5, 5 + len(ELEMENTS)))


async def record_response(
    conn: Conn,
    *,
    respondent: str,
    request: str,
    permit_type: str,
    period: date,
    ratings: Mapping[str, int],
) -> str | None:
    """Store a response; answers the ``request`` of the respondent's stored response (this
    one's when it is new), so the caller tells a retry from a second response."""
    stored: str | None = await conn.fetchval(
        f"""
        WITH new AS (
            INSERT INTO survey_responses (respondent, request, permit_type, period, {_COLUMNS})
            VALUES ($1, $2, $3, $4, {_PLACEHOLDERS})
            ON CONFLICT (respondent) DO NOTHING
            RETURNING request
        )
        SELECT request FROM new
        UNION ALL
        SELECT request FROM survey_responses WHERE respondent = $1
        LIMIT 1
        """,
        respondent,
        request,
        permit_type,
        period,
        *(ratings[e] for e in ELEMENTS),
    )
    if stored is None:  # a concurrent first response committed after this statement began
        stored = await conn.fetchval(
            "SELECT request FROM survey_responses WHERE respondent = $1", respondent
        )
    return stored


async def answered(conn: Conn, respondent: str) -> bool:
    return bool(
        await conn.fetchval("SELECT 1 FROM survey_responses WHERE respondent = $1", respondent)
    )


async def responses(conn: Conn, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every response of the months in [start, end), with its service and year."""
    rows = await conn.fetch(
        f"""
        SELECT permit_type, to_char(period, 'YYYY') AS year, {_COLUMNS}
        FROM survey_responses WHERE period >= $1::date AND period < $2::date
        ORDER BY permit_type, period
        """,
        start.date(),
        end.date(),
    )
    return [dict(r) for r in rows]
