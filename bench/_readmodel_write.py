"""Writing the generated province (``_readmodel_gen``) into PostgreSQL, in parallel.

``jobs`` processes (at most 4) each play a stride of the application indices through the
case core and write each application's batch with the store's ``apply_batch`` over their
own connections, so the case core's CPU and PostgreSQL's overlap on two cores.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from _readmodel_gen import Played, Player

from loket.calendar import calendar_for
from loket.calendar_data import covered_years, load_calendar
from loket.route.loader import load_catalog
from loket.settings import PROJECT_ROOT
from loket.store import permits
from loket.store.db import create_pool
from loket.store.dev_seed import seed_from_definitions
from loket.store.monitoring import remember_calendar
from loket.store.records import apply_batch

MAX_JOBS = 4
PUBLIC_BASE_URL = "https://loket.blorakab.go.id"  # printed in the permit's QR link
DEFINITIONS = PROJECT_ROOT / "definitions"
_IN_FLIGHT = 2  # applications each process writes at once (one connection each)
log = logging.getLogger("bench.readmodel")


@dataclass
class Written:
    applications: int = 0
    operations: int = 0  # case-core operations played (one record batch each in production)
    tasks: int = 0
    audit_events: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)

    def add(self, other: Written) -> None:
        self.applications += other.applications
        self.operations += other.operations
        self.tasks += other.tasks
        self.audit_events += other.audit_events
        self.by_type.update(other.by_type)
        self.by_status.update(other.by_status)


def _player(seed: int) -> Player:
    snapshot = load_calendar(DEFINITIONS, *covered_years(DEFINITIONS))
    return Player(load_catalog(DEFINITIONS), calendar_for(snapshot), seed)


async def _play(player: Player, pool: asyncpg.Pool, index: int) -> Played:
    """Play one application; its permit is numbered by the store as the activity does."""
    steps = player.play(index)
    try:
        request = next(steps)
        while True:
            async with pool.acquire() as conn:
                document = await permits.number_permit(conn, request, PUBLIC_BASE_URL)
            request = steps.send(document)
    except StopIteration as stop:
        played: Played = stop.value
        return played


async def _write_stride(dsn: str, seed: int, indices: range) -> Written:
    player = _player(seed)
    done = Written()
    pool = await create_pool(dsn, min_size=_IN_FLIGHT, max_size=_IN_FLIGHT)
    try:
        pending: set[asyncio.Task[bool]] = set()
        for index in indices:
            played = await _play(player, pool, index)
            done.applications += 1
            done.operations += played.operations
            done.tasks += len(played.batch.tasks)
            done.audit_events += len(played.batch.audit)
            done.by_type[played.permit_type] += 1
            done.by_status[played.batch.application.status] += 1
            pending.add(asyncio.create_task(apply_batch(pool, played.batch)))
            if len(pending) >= _IN_FLIGHT:
                finished, pending = await asyncio.wait(pending, return_when="FIRST_COMPLETED")
                for task in finished:
                    task.result()  # a refusal by the store stops the generation loudly
        if pending:
            for task in (await asyncio.wait(pending))[0]:
                task.result()
    finally:
        await pool.close()
    return done


def _run_stride(args: tuple[str, int, range]) -> Written:
    dsn, seed, indices = args
    return asyncio.run(_write_stride(dsn, seed, indices))


async def _prepare(dsn: str, *, durable: bool) -> None:
    """Commits that do not wait for the disk while generating (the rows are the same; a
    crash loses only the last commits, and a crashed generation is started over), and the
    calendar version every generated deadline was computed with (as the app keeps it)."""
    pool = await create_pool(dsn, max_size=1)
    try:
        conn = await pool.acquire()
        database = await conn.fetchval("SELECT current_database()")
        setting = "DEFAULT" if durable else "off"
        await conn.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = {setting}')
        if not durable:
            snapshot = load_calendar(DEFINITIONS, *covered_years(DEFINITIONS))
            await remember_calendar(conn, snapshot)
        await pool.release(conn)
    finally:
        await pool.close()


def generate(dsn: str, first: int, count: int, *, seed: int, jobs: int) -> Written:
    """Applications ``first .. first+count-1`` written by ``jobs`` processes."""
    jobs = max(1, min(jobs, MAX_JOBS))
    strides = [(dsn, seed, range(first + j, first + count, jobs)) for j in range(jobs)]
    total = Written()
    if jobs == 1:
        total.add(_run_stride(strides[0]))
        return total
    # spawn: children start clean (this runs beside the caller's event loop thread).
    with multiprocessing.get_context("spawn").Pool(jobs) as workers:
        for part in workers.imap_unordered(_run_stride, strides):
            total.add(part)
    return total


def generate_province(
    dsn: str, applications: int, tasks: int, *, seed: int, jobs: int, chunk: int = 20_000
) -> tuple[Written, float]:
    """At least ``applications`` applications and ``tasks`` task rows; returns the counts
    and the seconds it took. Written in chunks so progress shows in the log."""
    asyncio.run(_prepare(dsn, durable=False))
    asyncio.run(seed_from_definitions(dsn, DEFINITIONS))  # issuing needs signing officials
    started = time.perf_counter()
    total = Written()
    while total.applications < applications or total.tasks < tasks:
        if total.applications < applications:
            count = min(chunk, applications - total.applications)
        else:  # enough applications, too few task rows: more at the rate seen so far
            per_app = total.tasks / max(total.applications, 1)
            count = min(chunk, max(1, int((tasks - total.tasks) / max(per_app, 1.0) * 1.01) + 1))
        total.add(generate(dsn, total.applications, count, seed=seed, jobs=jobs))
        elapsed = time.perf_counter() - started
        log.info(
            "generated %d applications, %d tasks, %d audit events in %.0f s (%.0f apps/s)",
            total.applications,
            total.tasks,
            total.audit_events,
            elapsed,
            total.applications / elapsed,
        )
    seconds = time.perf_counter() - started
    asyncio.run(_prepare(dsn, durable=True))
    return total, seconds


def is_inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True
