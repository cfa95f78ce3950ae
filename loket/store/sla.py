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

_KEY = "registration_number, step_id, attempt"
# The batch's done steps as the task rows say (want) and as sla_closed has them (have): the
# rows that differ are written (upserted, or deleted when the step is no longer done) and
# the (step, UTC day) groups of both sides returned. One round trip; the upsert and the
# delete touch disjoint keys (PostgreSQL refuses one statement that deletes and inserts
# the same key).
_MIRROR = f"""
WITH want AS (
    SELECT t.step_id, t.attempt, a.permit_type, t.agency, t.counter, t.name,
           t.closed_at, t.due_at, t.used_working_s::bigint, t.escalation_level
    FROM tasks t JOIN applications a USING (registration_number)
    WHERE t.registration_number = $1 AND t.step_id = ANY($2::text[])
      AND t.state = 'done' AND t.closed_at IS NOT NULL
), have AS (
    SELECT step_id, attempt, {_SLA_COLUMNS} FROM sla_closed
    WHERE registration_number = $1 AND step_id = ANY($2::text[])
), changed AS (
    (SELECT * FROM want EXCEPT SELECT * FROM have)
    UNION ALL (SELECT * FROM have EXCEPT SELECT * FROM want)
), put AS (
    INSERT INTO sla_closed AS c ({_KEY}, {_SLA_COLUMNS})
    SELECT $1::text, w.* FROM want w
    WHERE (w.step_id, w.attempt) IN (SELECT step_id, attempt FROM changed)
    ON CONFLICT ({_KEY}) DO UPDATE SET
        permit_type = EXCLUDED.permit_type, agency = EXCLUDED.agency,
        counter = EXCLUDED.counter, name = EXCLUDED.name, closed_at = EXCLUDED.closed_at,
        due_at = EXCLUDED.due_at, used_working_s = EXCLUDED.used_working_s,
        escalation_level = EXCLUDED.escalation_level
), gone AS (
    DELETE FROM sla_closed c
    WHERE c.registration_number = $1 AND (c.step_id, c.attempt) IN (
        SELECT step_id, attempt FROM changed EXCEPT SELECT step_id, attempt FROM want)
)
SELECT DISTINCT permit_type, agency, counter, step_id,
       (closed_at AT TIME ZONE 'UTC')::date AS day
FROM changed
"""

_LOCK = """
SELECT pg_advisory_xact_lock(k.lock) FROM (
    SELECT DISTINCT hashtextextended(g, 15) AS lock FROM unnest($1::text[]) AS g ORDER BY 1
) k
"""

_COUNTS = """
    count(*) AS closed,
    count(*) FILTER (WHERE due_at IS NULL OR closed_at <= due_at) AS on_time,
    count(*) FILTER (WHERE closed_at > due_at) AS late,
    count(used_working_s) AS timed,
    max(escalation_level) AS max_escalation_level,
    min(name) AS min_name
"""

_DAILY_KEY = "permit_type, agency, counter, step_id, day, bucket"
# The sla_daily rows of the given (step, UTC day) groups recounted from sla_closed, in one
# round trip: the recount upserted, the buckets it no longer has deleted (disjoint keys).
_RECOUNT = f"""
WITH g AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[])
        AS g(permit_type, agency, counter, step_id, day)
), r AS (
    SELECT g.permit_type, g.agency, g.counter, g.step_id, g.day,
           coalesce(c.bucket, -1)::smallint AS bucket, {_COUNTS}
    FROM g JOIN sla_closed c
      ON c.permit_type = g.permit_type AND c.agency = g.agency AND c.counter = g.counter
     AND c.step_id = g.step_id
     AND c.closed_at >= g.day::timestamp AT TIME ZONE 'UTC'
     AND c.closed_at < (g.day + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY g.permit_type, g.agency, g.counter, g.step_id, g.day, coalesce(c.bucket, -1)
), gone AS (
    DELETE FROM sla_daily d USING g
    WHERE (d.permit_type, d.agency, d.counter, d.step_id, d.day)
          = (g.permit_type, g.agency, g.counter, g.step_id, g.day)
      AND (d.bucket) NOT IN (
          SELECT r.bucket FROM r
          WHERE (r.permit_type, r.agency, r.counter, r.step_id, r.day)
                = (d.permit_type, d.agency, d.counter, d.step_id, d.day))
)
INSERT INTO sla_daily ({_DAILY_KEY}, closed, on_time, late, timed, max_escalation_level,
                       min_name)
SELECT * FROM r
ON CONFLICT ({_DAILY_KEY}) DO UPDATE SET
    closed = EXCLUDED.closed, on_time = EXCLUDED.on_time, late = EXCLUDED.late,
    timed = EXCLUDED.timed, max_escalation_level = EXCLUDED.max_escalation_level,
    min_name = EXCLUDED.min_name
"""


async def record_closings(conn: Conn, registration_number: str, steps: Sequence[str]) -> None:
    """Bring ``sla_closed`` and ``sla_daily`` in line with the task rows of ``steps`` of an
    application, as they stand in this transaction (call it after writing them).

    Three round trips when a step closed (mirror, lock, recount), one otherwise."""
    if not steps:
        return
    rows = await conn.fetch(_MIRROR, registration_number, list(steps))
    if not rows:
        return  # the usual batch: its done steps are as recorded already
    touched = sorted(
        {(r["permit_type"], r["agency"], r["counter"], r["step_id"], r["day"]) for r in rows}
    )
    # One (step, day) is recounted by one transaction at a time: the recount, a statement
    # after the lock, sees the committed rows of a transaction it waited for. Locks are
    # taken in the order of their keys, so batches never wait for each other in a circle
    # (not even when two keys collide). The application's own sla_closed rows were written
    # above, under its row lock (apply_batch), so no other transaction writes them.
    await conn.execute(_LOCK, [repr(group) for group in touched])
    await conn.execute(_RECOUNT, *(list(column) for column in zip(*touched, strict=True)))


def _utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive one as asyncpg binds it to timestamptz (the machine's zone)."""
    return at.astimezone(UTC)


def _utc_day(at: datetime) -> date:
    return _utc(at).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


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
