"""The SLA report from its summary (loket/store/sla.py) equals the query it replaced (kept
here as the oracle) on generated closings: for a year in WIB, windows with part days at
either end or inside one day, an empty one, per permit type; also after steps are written
again with other times and durations, and when batches of one step run concurrently."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from loket.store.db import create_pool
from loket.store.records import apply_batch
from loket.store.sla import sla_compliance
from workflows.messages import ApplicationRecord, AuditEntry, RecordBatch, TaskRecord

WIB = timezone(timedelta(hours=7))
YEAR_START, YEAR_END = datetime(2026, 1, 1, tzinfo=WIB), datetime(2027, 1, 1, tzinfo=WIB)

# The report's statement before the summary (loket/store/monitoring.py until migration 015).
ORACLE = """
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
STEPS = [
    ("dpmptsp", "front_office", "registration"),
    ("dpupr", "pbg_secretariat", "completeness"),
    ("dpupr", "tpa", "tpa_review"),
    ("bank", "payment", "payment"),
]
NAMES = ["Pendaftaran", "pendaftaran", "Ärztliche", "Zahlung", "Bayar"]


async def oracle(conn: asyncpg.Connection, start: datetime, end: datetime, pt: str | None) -> Any:
    report = []
    for r in await conn.fetch(ORACLE, start, end, pt):
        item = dict(r)
        item["on_time_share"] = round(r["on_time"] / r["closed"], 4) if r["closed"] else None
        report.append(item)
    return report


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_dsn)
    yield pool
    await pool.close()


def _duration(rng: random.Random) -> int | None:
    pick = rng.random()
    if pick < 0.05:
        return None  # a step closed without a duration (percentile_cont skips it)
    if pick < 0.25:
        return rng.choice([0, 1, 3600, 28_800])  # ties
    return int(rng.lognormvariate(10, 1.6))


def _task(rng: random.Random, step: tuple[str, str, str], attempt: int, base: datetime) -> Any:
    closed = base + timedelta(seconds=rng.randint(0, 3 * 86_400))
    due = None if rng.random() < 0.1 else closed + timedelta(hours=rng.randint(-30, 30))
    state = "done" if rng.random() < 0.85 else rng.choice(["open", "cancelled"])
    return TaskRecord(
        step_id=step[2],
        attempt=attempt,
        name=rng.choice(NAMES),
        agency=step[0],
        counter=step[1],
        state=state,
        opened_at=closed - timedelta(days=2),
        due_at=due,
        calendar_version="blora-test",
        clock="running",
        outcome="approve" if state == "done" else None,
        closed_at=closed if state != "open" else None,
        escalation_level=rng.choice([0, 0, 0, 1, 2]),
        used_working_s=_duration(rng) if state == "done" else None,
    )


def _batch(reg: str, permit_type: str, seq: int, tasks: tuple[TaskRecord, ...]) -> RecordBatch:
    return RecordBatch(
        application=ApplicationRecord(
            registration_number=reg,
            permit_type=permit_type,
            route_version=1,
            status="in_progress",
            data={},
            submitted_at=datetime(2025, 12, 1, tzinfo=UTC),
            service_due_at=None,
            calendar_version="blora-test",
            current_steps=(),
            current_agencies=(),
            waiting_for_applicant=False,
        ),
        tasks=tasks,
        audit=(
            AuditEntry(
                seq=seq, event="step_decided", at=datetime.now(UTC), actor="x", actor_role="staff"
            ),
        ),
    )


# Around the year's edges (WIB midnight is 17:00 UTC) and inside it.
BASES = [datetime(2025, 12, 30, tzinfo=UTC), datetime(2026, 6, 15, tzinfo=UTC)]
BASES += [datetime(2026, 12, 30, tzinfo=UTC)]


async def _generate(pool: asyncpg.Pool, rng: random.Random, n: int) -> list[tuple[str, str]]:
    written = []
    for i in range(n):
        reg, pt = f"{'PBG' if i % 3 else 'SIP'}-2026-{i:06d}", "PBG" if i % 3 else "SIP"
        base = rng.choice(BASES)
        tasks = tuple(
            _task(rng, step, attempt, base)
            for step in rng.sample(STEPS, rng.randint(1, 4))
            for attempt in range(1, rng.choice([2, 2, 3]))
        )
        assert await apply_batch(pool, _batch(reg, pt, 1, tasks))
        written.append((reg, pt))
    return written


def _windows() -> list[tuple[datetime, datetime]]:
    return [
        (YEAR_START, YEAR_END),
        (datetime(2025, 12, 30, 5, 17, 3, tzinfo=UTC), datetime(2026, 1, 2, 1, 0, tzinfo=UTC)),
        (datetime(2025, 12, 31, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),  # one UTC day
        (datetime(2026, 6, 15, 3, tzinfo=UTC), datetime(2026, 6, 15, 9, 30, tzinfo=UTC)),
        (datetime(2026, 6, 16, tzinfo=UTC), datetime(2026, 6, 16, tzinfo=UTC)),  # empty
        (datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)),
        (datetime(2026, 1, 2, 3), datetime(2026, 6, 15, 12)),  # naive (the API takes them)
        (datetime(2026, 6, 20, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)),  # backwards
    ]


async def _assert_equal(pool: asyncpg.Pool) -> int:
    compared = 0
    async with pool.acquire() as conn:
        for start, end in _windows():
            for pt in (None, "PBG", "SIP", "PTKA"):
                expected = await oracle(conn, start, end, pt)
                assert await sla_compliance(conn, start, end, pt) == expected, (start, end, pt)
                compared += len(expected)
    return compared


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_summary_equals_the_old_query(pool: asyncpg.Pool, seed: int) -> None:
    rng = random.Random(seed)
    written = await _generate(pool, rng, 160)
    assert await _assert_equal(pool) > 40
    # Steps written again with other closing times, durations, states (a later batch of the
    # same application): the summary follows them, moving them between days and buckets.
    for reg, pt in rng.sample(written, 60):
        rows = await pool.fetch(
            "SELECT step_id, agency, counter, attempt FROM tasks WHERE registration_number = $1",
            reg,
        )
        again = tuple(
            _task(rng, (r["agency"], r["counter"], r["step_id"]), r["attempt"], rng.choice(BASES))
            for r in rows
        )
        assert await apply_batch(pool, _batch(reg, pt, 2, again))
    assert await _assert_equal(pool) > 40
    # Every summary row is a recount of sla_closed, and sla_closed mirrors the done tasks.
    assert await pool.fetchval(
        "SELECT count(*) FROM tasks WHERE state = 'done' AND closed_at IS NOT NULL"
    ) == await pool.fetchval("SELECT count(*) FROM sla_closed")


async def test_concurrent_batches_of_one_step_and_day_count_every_closing(
    pool: asyncpg.Pool,
) -> None:
    rng = random.Random(7)
    day = datetime(2026, 6, 15, 2, tzinfo=UTC)

    async def one(i: int) -> None:
        task = _task(rng, STEPS[0], 1, day).model_copy(
            update={"state": "done", "closed_at": day + timedelta(minutes=i), "used_working_s": i}
        )
        assert await apply_batch(pool, _batch(f"SIP-2026-{500 + i:06d}", "SIP", 1, (task,)))

    await asyncio.gather(*(one(i) for i in range(24)))
    closed = await pool.fetchval(
        "SELECT sum(closed) FROM sla_daily WHERE day = '2026-06-15' AND step_id = 'registration'"
    )
    assert closed == 24
    assert await _assert_equal(pool) > 0
