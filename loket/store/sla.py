"""The SLA report from its summary (issue 13 goal 6; tables of migration 015).

``apply_batch`` calls :func:`record_closings` in the transaction that writes the task
rows: ``sla_closed`` mirrors every done step (what it took, exactly), and the
``sla_daily`` rows of each (step, UTC day) it touched are recounted from it. The report
(:func:`sla_compliance`) adds up the summary for the whole UTC days of its window and
``sla_closed`` for the part days at its edges; each percentile is read exactly: the
summary's bucket counts say which bucket holds the row it needs, and the durations index
is read only from that bucket on. The numbers are those of ``percentile_cont`` over the
task rows (``tests/store/test_sla_summary.py`` keeps that query as the oracle).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from loket.store.db import Conn

_GROUP = ("agency", "counter", "permit_type", "step_id")
_SLA_COLUMNS = (
    "permit_type, agency, counter, name, closed_at, due_at, used_working_s, escalation_level"
)

# --- maintained with the task rows -------------------------------------------------------

_FIELDS = tuple(_SLA_COLUMNS.split(", "))
# The batch's done steps as the task rows say, and as sla_closed has them: one round trip.
_BOTH = f"""
SELECT true AS want, t.step_id, t.attempt, a.permit_type, t.agency, t.counter, t.name,
       t.closed_at, t.due_at, t.used_working_s, t.escalation_level
FROM tasks t JOIN applications a USING (registration_number)
WHERE t.registration_number = $1 AND t.step_id = ANY($2::text[])
  AND t.state = 'done' AND t.closed_at IS NOT NULL
UNION ALL
SELECT false, step_id, attempt, {_SLA_COLUMNS} FROM sla_closed
WHERE registration_number = $1 AND step_id = ANY($2::text[])
"""

_LOCK = """
SELECT pg_advisory_xact_lock(k.lock) FROM (
    SELECT DISTINCT hashtextextended(g, 15) AS lock FROM unnest($1::text[]) AS g ORDER BY 1
) k
"""


async def record_closings(conn: Conn, registration_number: str, steps: Sequence[str]) -> None:
    """Bring ``sla_closed`` and ``sla_daily`` in line with the task rows of ``steps`` of an
    application, as they stand in this transaction (call it after writing them)."""
    if not steps:
        return
    want: dict[tuple[str, int], tuple[Any, ...]] = {}
    have: dict[tuple[str, int], tuple[Any, ...]] = {}
    for r in await conn.fetch(_BOTH, registration_number, list(steps)):
        side = want if r["want"] else have
        side[(r["step_id"], r["attempt"])] = tuple(r[c] for c in _FIELDS)
    changed = {k for k in want.keys() | have.keys() if want.get(k) != have.get(k)}
    if not changed:
        return  # the usual batch: its done steps are as recorded already
    touched: set[tuple[str, str, str, str, date]] = set()
    for key in sorted(changed):
        for row in (have.get(key), want.get(key)):
            if row is not None:
                permit_type, agency, counter, _, closed_at = row[:5]
                touched.add((permit_type, agency, counter, key[0], _utc_day(closed_at)))
    # One (step, day) is recounted by one transaction at a time: a recount that waited
    # sees the other's committed rows. Locks are taken in the order of their keys, so
    # batches never wait for each other in a circle (not even when two keys collide).
    await conn.execute(_LOCK, [repr(group) for group in touched])
    await conn.execute(
        "DELETE FROM sla_closed WHERE registration_number = $1"
        " AND (step_id, attempt) IN (SELECT * FROM unnest($2::text[], $3::int[]))",
        registration_number,
        [k[0] for k in changed],
        [k[1] for k in changed],
    )
    await conn.executemany(
        f"INSERT INTO sla_closed (registration_number, step_id, attempt, {_SLA_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        [(registration_number, *k, *want[k]) for k in sorted(changed) if k in want],
    )
    for permit_type, agency, counter, step_id, day in sorted(touched):
        await _recount(conn, permit_type, agency, counter, step_id, day)


def _utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive one as asyncpg binds it to timestamptz (the machine's zone)."""
    return at.astimezone(UTC)


def _utc_day(at: datetime) -> date:
    return _utc(at).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


_COUNTS = """
    count(*) AS closed,
    count(*) FILTER (WHERE due_at IS NULL OR closed_at <= due_at) AS on_time,
    count(*) FILTER (WHERE closed_at > due_at) AS late,
    count(used_working_s) AS timed,
    max(escalation_level) AS max_escalation_level,
    min(name) AS min_name
"""


async def _recount(
    conn: Conn, permit_type: str, agency: str, counter: str, step_id: str, day: date
) -> None:
    where = (
        "permit_type = $1 AND agency = $2 AND counter = $3 AND step_id = $4"
        " AND closed_at >= $5 AND closed_at < $6"
    )
    start, end = _midnight(day), _midnight(day + timedelta(days=1))
    await conn.execute(
        "DELETE FROM sla_daily WHERE permit_type = $1 AND agency = $2 AND counter = $3"
        " AND step_id = $4 AND day = $5",
        permit_type,
        agency,
        counter,
        step_id,
        day,
    )
    await conn.execute(
        f"""
        INSERT INTO sla_daily (permit_type, agency, counter, step_id, day, bucket, closed,
                               on_time, late, timed, max_escalation_level, min_name)
        SELECT $1, $2, $3, $4, $7, coalesce(bucket, -1), {_COUNTS}
        FROM sla_closed WHERE {where} GROUP BY coalesce(bucket, -1)
        """,
        permit_type,
        agency,
        counter,
        step_id,
        start,
        end,
        day,
    )


# --- the report --------------------------------------------------------------------------

# Per step and bucket: the summary's whole days plus the part days at the edges.
_BUCKETS = f"""
WITH parts AS (
    SELECT permit_type, agency, counter, step_id, bucket, closed, on_time, late, timed,
           max_escalation_level, min_name
    FROM sla_daily
    WHERE day >= $1 AND day < $2 AND ($5::text IS NULL OR permit_type = $5)
    UNION ALL
    SELECT permit_type, agency, counter, step_id, coalesce(bucket, -1), {_COUNTS}
    FROM sla_closed
    WHERE ((closed_at >= $3 AND closed_at < $6) OR (closed_at >= $7 AND closed_at < $4))
      AND ($5::text IS NULL OR permit_type = $5)
    GROUP BY permit_type, agency, counter, step_id, coalesce(bucket, -1)
)
SELECT agency, counter, permit_type, step_id, bucket, sum(closed)::bigint AS closed,
       sum(on_time)::bigint AS on_time, sum(late)::bigint AS late,
       sum(timed)::bigint AS timed,
       -- the step's over all its buckets, in the database's collation like the old query
       max(max(max_escalation_level)) OVER step AS max_escalation_level,
       min(min(min_name)) OVER step AS name
FROM parts
GROUP BY agency, counter, permit_type, step_id, bucket
WINDOW step AS (PARTITION BY agency, counter, permit_type, step_id)
ORDER BY agency, counter, permit_type, step_id, bucket
"""

# The two durations from a rank on, within its step, from its bucket on.
_AT_RANK = """
SELECT q.i, s.used
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::bigint[],
            $7::int[]) AS q(permit_type, agency, counter, step_id, bucket, skip, i)
CROSS JOIN LATERAL (
    SELECT array_agg(used_working_s) AS used FROM (
        SELECT c.used_working_s FROM sla_closed c
        WHERE c.permit_type = q.permit_type AND c.agency = q.agency
          AND c.counter = q.counter AND c.step_id = q.step_id
          AND c.used_working_s IS NOT NULL AND c.bucket >= q.bucket
          AND c.closed_at >= $8 AND c.closed_at < $9
        ORDER BY c.bucket, c.used_working_s OFFSET q.skip LIMIT 2) d) s
"""
PERCENTILES = {"median_working_s": 0.5, "p90_working_s": 0.9}


def _window(start: datetime, end: datetime) -> tuple[date, date, datetime, datetime]:
    """The whole UTC days inside [start, end) and where the edges meet them."""
    first = _utc_day(start)
    if _midnight(first) < start:
        first += timedelta(days=1)
    last = _utc_day(end)
    if last <= first:  # no whole day: all of it is one edge
        return first, first, end, end
    return first, last, _midnight(first), _midnight(last)


def _percentile(p: float, count: int, lo: float, hi: float) -> float:
    """``percentile_cont``'s arithmetic (PostgreSQL's float8 lerp) on the two rows."""
    x = p * (count - 1)
    return lo + (hi - lo) * (x - math.floor(x))


async def sla_compliance(
    conn: Conn, start: datetime, end: datetime, permit_type: str | None = None
) -> list[dict[str, Any]]:
    """Per agency, counter and step: steps closed in [start, end), on time or late, and the
    median and p90 of the working time they used (pauses excluded)."""
    start, end = _utc(start), _utc(end)
    first, last, first_at, last_at = _window(start, end)
    rows = await conn.fetch(_BUCKETS, first, last, start, end, permit_type, first_at, last_at)
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    buckets: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for r in rows:
        key = tuple(r[c] for c in _GROUP)
        g = groups.setdefault(
            key,
            {c: r[c] for c in (*_GROUP, "name", "max_escalation_level")}
            | {"closed": 0, "on_time": 0, "late": 0, "timed": 0},
        )
        for c in ("closed", "on_time", "late", "timed"):
            g[c] += r[c]
        if r["bucket"] >= 0:
            buckets.setdefault(key, []).append((r["bucket"], r["timed"]))
    # Which rows (0-based, in duration order) each percentile needs, found in the buckets.
    asks: list[tuple[tuple[str, ...], int, int, int]] = []  # group, bucket, skip, rank
    for key, counts in buckets.items():
        total = groups[key]["timed"]
        for p in PERCENTILES.values():
            rank = math.floor(p * (total - 1))
            before = 0
            for bucket, n in counts:
                if rank < before + n:
                    asks.append((key, bucket, rank - before, rank))
                    break
                before += n
    found: dict[tuple[tuple[str, ...], int], list[int]] = {}
    if asks:
        got = await conn.fetch(
            _AT_RANK,
            [a[0][2] for a in asks],
            [a[0][0] for a in asks],
            [a[0][1] for a in asks],
            [a[0][3] for a in asks],
            [a[1] for a in asks],
            [a[2] for a in asks],
            list(range(len(asks))),
            start,
            end,
        )
        for r in got:
            found[(asks[r["i"]][0], asks[r["i"]][3])] = r["used"]
    report = []
    for key, g in groups.items():
        item = {c: g[c] for c in ("agency", "counter", "permit_type", "step_id", "name")}
        item |= {c: g[c] for c in ("closed", "on_time", "late")}
        for column, p in PERCENTILES.items():
            item[column] = None
            if g["timed"]:
                used = found[(key, math.floor(p * (g["timed"] - 1)))]
                lo = float(used[0])
                hi = float(used[1]) if len(used) > 1 else lo
                item[column] = _percentile(p, g["timed"], lo, hi)
        item["max_escalation_level"] = g["max_escalation_level"]
        item["on_time_share"] = round(g["on_time"] / g["closed"], 4) if g["closed"] else None
        report.append(item)
    return report
