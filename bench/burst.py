"""The morning after Lebaran: thousands of escalations due at once while staff keep deciding.

On the embedded stack, ``--applications`` PBG applications (the storm) and
``--decision-applications`` more (the staff's work) are submitted while the office is
closed. The calendar is built here: the days before today are Idul Fitri and its cuti
bersama, and today's office opens only at ``opens_at = start + lead`` (standing in for
08:00 of the first working morning; round the clock after it, so working time = wall time).
Every step opened during the closure counts from the opening, so every storm application's
reminder (its first step: a 1 working hour deadline, one rule at ``--at-percent``, see
``_drive.storm_pbg``) is due at the same instant ``T0 = opens_at + 36 s`` (1 %).

From ``--before-s`` before T0 until ``--after-s`` after the last storm escalation was
recorded, an open-loop scheduler sends staff decisions at ``--rate`` per second (a tick
every 1/rate s, whether or not earlier decisions returned) on the decision applications,
each through every PBG step (approve, pay with an SSRD number, issue). Reported: decision
round trip p50/p99 overall and per ``--window-s`` window relative to T0, the time until
every storm escalation was recorded, and the load average at start and end.
``--workers 2`` runs two Loket worker processes on the same task queue.

    .venv/bin/python bench/burst.py --applications 5000 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from _common import (
    Stack,
    WorkerProcess,
    add_worker_args,
    embedded_stack,
    environment,
    finish,
    monotonic,
    print_table,
    start_worker,
    summary_ms,
    worker_knobs,
)
from _drive import PBG_FORM, Decider, storm_pbg
from _storm import opening_calendar, wait_for
from escalation import LATENESS_SQL, start_applications

from loket.calendar import Holiday
from loket.settings import get_settings
from workflows.messages import ApplicationView

# Idul Fitri (two days) and the cuti bersama around it, ending yesterday: a real file
# received then would also count from this morning's opening.
LEBARAN = (
    ("Cuti bersama Idul Fitri", "cuti_bersama"),
    ("Cuti bersama Idul Fitri", "cuti_bersama"),
    ("Hari Raya Idul Fitri", "national"),
    ("Hari Raya Idul Fitri", "national"),
    ("Cuti bersama Idul Fitri", "cuti_bersama"),
    ("Cuti bersama Idul Fitri", "cuti_bersama"),
    ("Cuti bersama Idul Fitri", "cuti_bersama"),
)
STORM_SQL = "SELECT count(*) FROM escalations WHERE registration_number = ANY($1::text[])"


def lebaran(today: date) -> dict[date, Holiday]:
    first = today - timedelta(days=len(LEBARAN))
    return {
        first + timedelta(days=i): Holiday(name=name, kind=kind, source="benchmark")
        for i, (name, kind) in enumerate(LEBARAN)
    }


@dataclass
class Stream:
    """Open-loop staff decisions: one tick every 1/rate s takes the next waiting application."""

    decider: Decider
    rate: float
    due_epoch: float
    waiting: collections.deque[tuple[str, ApplicationView]]
    sent_rel_s: list[float] = field(default_factory=list)  # send instant minus T0
    rtt_s: list[float] = field(default_factory=list)
    skipped: int = 0  # ticks with no application waiting (too few decision applications)
    errors: list[str] = field(default_factory=list)
    _in_flight: set[asyncio.Task[None]] = field(default_factory=set)

    async def one(self, reg: str, view: ApplicationView) -> None:
        sent_rel = datetime.now(UTC).timestamp() - self.due_epoch
        try:
            view, rtt = await self.decider.decide(reg, view)
        except Exception as error:  # a benchmark reports failures, it does not stop on them
            self.errors.append(f"{reg}: {error!r}"[:300])
            return
        self.sent_rel_s.append(sent_rel)
        self.rtt_s.append(rtt)
        if view.status == "in_progress" and view.open_steps:
            self.waiting.append((reg, view))

    async def run(self, stop: asyncio.Event) -> None:
        started = monotonic()
        tick = 0
        while not stop.is_set():
            if self.waiting:
                task = asyncio.create_task(self.one(*self.waiting.popleft()))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            else:
                self.skipped += 1
            tick += 1
            # Absolute schedule: a slow tick does not shift the next ones (open loop).
            await asyncio.sleep(max(0.0, started + tick / self.rate - monotonic()))
        await asyncio.gather(*self._in_flight)


def windows(stream: Stream, width_s: float) -> list[dict[str, Any]]:
    by_window: dict[int, list[float]] = collections.defaultdict(list)
    for sent, rtt in zip(stream.sent_rel_s, stream.rtt_s, strict=True):
        by_window[math.floor(sent / width_s)].append(rtt)
    return [
        {"from_s": k * width_s, **summary_ms(values)} for k, values in sorted(by_window.items())
    ]


async def start_workers(stack: Stack, queue: str, args: argparse.Namespace) -> list[WorkerProcess]:
    knobs = worker_knobs(args)
    return [await start_worker("loket", stack, queue, **knobs) for _ in range(args.workers)]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    env_before = environment()
    permit = storm_pbg(args.at_percent)
    n, m = args.applications, args.decision_applications
    async with embedded_stack() as stack:
        task_queue = f"bench-burst-{uuid.uuid4().hex[:8]}"
        workers = await start_workers(stack, task_queue, args)
        try:
            lead = 30 + (n + m) * args.start_estimate_ms / 1000
            now = datetime.now(UTC)
            opens_at = now + timedelta(seconds=lead)
            calendar = opening_calendar(now, opens_at, lebaran(now.date()))
            due = opens_at + timedelta(hours=1) * args.at_percent / 100
            print(
                f"{n} storm + {m} decision applications, {args.workers} worker(s); office "
                f"opens {opens_at:%H:%M:%S} UTC, every storm reminder due at {due:%H:%M:%S} UTC"
            )
            regs, start_s = await start_applications(
                stack,
                permit,
                calendar,
                task_queue,
                n + m,
                args.start_concurrency,
                PBG_FORM,
                args.spread_s,
            )
            print(f"started {n + m} in {start_s:.1f}s", flush=True)
            decision_regs, storm_regs = regs[:m], regs[m:]
            clock0 = monotonic()
            opened_s = await wait_for(
                stack,
                "first task rows",
                "SELECT count(*) FROM tasks",
                n + m,
                clock0 + lead + args.timeout_s,
                clock0,
            )
            views: collections.deque[tuple[str, ApplicationView]] = collections.deque()
            for reg in decision_regs:
                handle = stack.client.get_workflow_handle(reg, result_type=ApplicationView)
                views.append((reg, await handle.query("view", result_type=ApplicationView)))
            wait = (due - datetime.now(UTC)).total_seconds() - args.before_s
            if wait > 0:
                print(f"waiting {wait:.0f}s, then deciding at {args.rate}/s ...", flush=True)
                await asyncio.sleep(wait)
            stream = Stream(Decider(stack, permit), args.rate, due.timestamp(), views)
            stop = asyncio.Event()
            deciding = asyncio.create_task(stream.run(stop))
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            due_clock = monotonic()
            recorded_s = await wait_for(
                stack,
                "storm escalations recorded",
                STORM_SQL,
                n,
                due_clock + args.timeout_s,
                due_clock,
                storm_regs,
            )
            await asyncio.sleep(args.after_s)
            stop.set()
            await deciding
            rows = await stack.pool.fetch(
                LATENESS_SQL + " AND a.registration_number = ANY($1::text[])", storm_regs
            )
            opened_late = await stack.pool.fetchval(
                "SELECT count(*) FROM tasks WHERE opened_at > $1 AND"
                " registration_number = ANY($2::text[])",
                opens_at,
                storm_regs,
            )
            worker_stats = [{"peak_rss_kb": w.peak_rss_kb(), "cpu_s": w.cpu_s()} for w in workers]
        finally:
            for worker in workers:
                await worker.stop()
    return report(
        args,
        stream,
        rows=[dict(r) for r in rows],
        recorded_s=recorded_s,
        opened_s=opened_s,
        start_s=start_s,
        opened_late=int(opened_late),
        worker_stats=worker_stats,
        due=due,
        env_before=env_before,
    )


def report(
    args: argparse.Namespace,
    stream: Stream,
    *,
    rows: list[dict[str, Any]],
    recorded_s: float | None,
    opened_s: float | None,
    start_s: float,
    opened_late: int,
    worker_stats: list[dict[str, Any]],
    due: datetime,
    env_before: dict[str, Any],
) -> dict[str, Any]:
    overall = summary_ms(stream.rtt_s)
    per_window = windows(stream, args.window_s)
    recorded = summary_ms([float(r["recorded"]) for r in rows if r["recorded"] is not None])
    print()
    print(f"decisions every {1 / args.rate:.2f}s (open loop), round trip by send instant vs T0")
    print_table(
        ["window from T0 s", "decisions", "p50 ms", "p99 ms", "max ms"],
        [[w["from_s"], w["count"], w["p50_ms"], w["p99_ms"], w["max_ms"]] for w in per_window],
    )
    worst = max((w["p99_ms"] for w in per_window), default=float("nan"))
    print()
    print(
        f"decisions: {overall['count']}, p50 {overall['p50_ms']} ms, p99 {overall['p99_ms']} ms,"
        f" worst window p99 {worst} ms (goal <= 1000); skipped ticks {stream.skipped},"
        f" errors {len(stream.errors)}"
    )
    print(
        f"storm: {len(rows)}/{args.applications} escalations; all recorded {recorded_s} s "
        f"after T0 (goal <= 300); recorded lateness p50 {recorded['p50_ms']} ms, "
        f"p99 {recorded['p99_ms']} ms"
    )
    print(f"start {start_s:.1f}s, all first rows {opened_s}s; workers {worker_stats}")
    if opened_late:
        print(f"WARNING: {opened_late} storm steps opened after the office opened (lead too short)")
    for error in stream.errors[:5]:
        print(f"  error: {error}")
    env_end = environment()["load_average"]
    print(f"load average: start {env_before['load_average']}, end {env_end}")
    return {
        "benchmark": "burst",
        "finished_at": datetime.now(UTC).isoformat(),
        "config": vars(args),
        "environment": {**env_before, "load_average_end": env_end},
        "complete": len(rows) == args.applications and not opened_late and not stream.skipped,
        "due_at": due.isoformat(),
        "start_s": start_s,
        "first_rows_written_s": opened_s,
        "all_storm_recorded_after_due_s": recorded_s,
        "storm_escalations": len(rows),
        "storm_recorded_lateness": recorded,
        "opened_after_office_opened": opened_late,
        "decisions": overall,
        "decision_windows": per_window,
        "worst_window_p99_ms": worst,
        "skipped_ticks": stream.skipped,
        "errors": stream.errors[:50],
        "workers": worker_stats,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=5000, help="the storm")
    parser.add_argument(
        "--decision-applications",
        type=int,
        default=400,
        help="decided through every step by the stream (PBG: 7 decisions each)",
    )
    parser.add_argument("--rate", type=float, default=5.0, help="decisions per second")
    parser.add_argument("--workers", type=int, choices=[1, 2], default=1)
    parser.add_argument("--at-percent", type=int, default=1, help="of the 1 h first step")
    parser.add_argument("--before-s", type=float, default=30.0, help="deciding before T0")
    parser.add_argument("--after-s", type=float, default=30.0, help="deciding after the drain")
    parser.add_argument("--window-s", type=float, default=10.0, help="latency window width")
    parser.add_argument("--start-concurrency", type=int, default=50)
    parser.add_argument(
        "--start-estimate-ms",
        type=float,
        default=50.0,
        help="lead = 30 s + (storm + decision applications) x this",
    )
    parser.add_argument("--timeout-s", type=float, default=420.0, help="after T0")
    parser.add_argument(
        "--spread-s",
        type=int,
        default=get_settings().escalation_spread_s,
        help="the escalation spread window, as shipped by default (LOKET_ESCALATION_SPREAD_S)",
    )
    add_worker_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    finish("burst", asyncio.run(run(args)))


if __name__ == "__main__":
    main()
