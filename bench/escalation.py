"""Escalation lateness: N stalled applications whose escalations fall due at the same instant.

On the dev server (on-disk SQLite, WAL pragmas) and an embedded PostgreSQL, ``--applications``
applications of a one-step test permit (``ESC``, built here) are started as fast as the
stack takes them. Its step has a 1 working hour deadline and one escalation rule at
``--at-percent`` of it (default 1%: 36 s of working time).

All escalations fall due at the same instant because of the calendar, not the start times:
the benchmark's calendar has office hours round the clock (working time = wall time),
except that today's office opens only at ``T0 = start + --lead-s``. Every step opened
before T0 counts from the opening (ARCHITECTURE: "a start outside office hours counts from
the next opening"), exactly like files received over a weekend, so every rule is due at
``T0 + at_percent x 1 h``: the worst case of "deadlines within the same minute".

Measured per escalation, against its scheduled instant (``details.scheduled_at`` of the
``step_escalated`` audit event):

* fired: the workflow's clock when it handled the timer (the audit event's ``at``);
* recorded: PostgreSQL's ``now()`` on the task row the escalation updated (the read model
  and inboxes show it from then on);
* delivered: the outbox row marked delivered by the notification activity.

Also: the time to start the applications, and the worker process's peak RSS (VmHWM; the
worker runs in its own process with the tuning knobs below).

    .venv/bin/python bench/escalation.py --applications 10000
"""

from __future__ import annotations

import argparse
import asyncio
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from _bare_storm import bare_phase
from _common import (
    Stack,
    WorkerProcess,
    add_worker_args,
    embedded_stack,
    environment,
    finish,
    monotonic,
    print_table,
    proc_status_kb,
    start_worker,
    summary_ms,
    worker_knobs,
)
from _storm import opening_calendar, wait_for

from loket.calendar import CalendarSnapshot
from loket.route.model import PermitType
from loket.services.submission import submit_application

STEP_DEADLINE_HOURS = 1


def bench_permit(at_percent: int) -> PermitType:
    """A one-step permit whose only rule fires at ``at_percent`` of a 1 working hour step."""
    return PermitType.model_validate(
        {
            "id": "ESC",
            "name": "Benchmark: escalation storm",
            "version": 1,
            "legal_basis": ["none: a benchmark permit, never in definitions/"],
            "product": "nothing",
            "complaints": "nobody",
            "service_time": {"standard": {"working_hours": 8}},
            "form": {"note": {"type": "string", "label": "Catatan", "required": False}},
            "fees": {"free": True, "free_basis": "benchmark"},
            "steps": [
                {
                    "id": "review",
                    "name": "Pemeriksaan berkas",
                    "agency": "dpmptsp",
                    "counter": "front_office",
                    "deadline": {"working_hours": STEP_DEADLINE_HOURS},
                    "outcomes": {"approve": "finish"},
                    "escalation": [
                        {"at_percent": at_percent, "action": "remind", "to": "assignee"}
                    ],
                }
            ],
        }
    )


async def start_applications(
    stack: Stack,
    permit: PermitType,
    calendar: CalendarSnapshot,
    task_queue: str,
    count: int,
    concurrency: int,
    form: dict[str, Any] | None = None,
    spread_s: int = 0,
) -> tuple[list[str], float]:
    """Submit ``count`` applications (database row + workflow start); return the wall time.
    ``spread_s``: the window their deadline loops' wake-ups are spread over."""
    regs: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def starter() -> None:
        while not queue.empty():
            queue.get_nowait()
            submitted = await submit_application(
                client=stack.client,
                pool=stack.pool,
                permit=permit,
                calendar=calendar,
                form=form or {"note": "bench"},
                task_queue=task_queue,
                now=datetime.now(UTC),
                escalation_spread_s=spread_s,
            )
            regs.append(submitted.registration_number)

    started = monotonic()
    await asyncio.gather(*(starter() for _ in range(concurrency)))
    return regs, monotonic() - started


LATENESS_SQL = """
SELECT extract(epoch FROM a.at - s.scheduled) AS fired,
       extract(epoch FROM t.updated_at - s.scheduled) AS recorded,
       extract(epoch FROM o.delivered_at - s.scheduled) AS delivered
FROM audit_events a
CROSS JOIN LATERAL (SELECT (a.details->>'scheduled_at')::timestamptz AS scheduled) s
JOIN tasks t USING (registration_number, step_id, attempt)
LEFT JOIN notification_outbox o
       ON o.key = a.registration_number || ':' || a.step_id || ':' || a.attempt || ':'
                  || (a.details->>'rule')
WHERE a.event = 'step_escalated'
"""


async def run(args: argparse.Namespace) -> dict[str, Any]:
    env_before = environment()
    permit = bench_permit(args.at_percent)
    fire_after = timedelta(hours=STEP_DEADLINE_HOURS) * args.at_percent / 100
    n = args.applications
    bare: dict[str, Any] | None = None
    async with embedded_stack() as stack:
        if not args.skip_bare and args.bare_order == "before":
            bare = await bare_phase(stack, args, n)
        task_queue = f"bench-escalation-{uuid.uuid4().hex[:8]}"
        worker = await start_worker("loket", stack, task_queue, **worker_knobs(args))
        worker.start_sampling()
        try:
            lead = (
                args.lead_s if args.lead_s is not None else 30 + n * args.start_estimate_ms / 1000
            )
            now = datetime.now(UTC)
            opens_at = now + timedelta(seconds=lead)
            calendar = opening_calendar(now, opens_at)
            scheduled = opens_at + fire_after
            print(
                f"{n} applications; office opens at {opens_at:%H:%M:%S} UTC, every escalation "
                f"is due at {scheduled:%H:%M:%S.%f} UTC ({calendar.timezone_name} calendar)"
            )
            clock0 = monotonic()
            regs, start_s = await start_applications(
                stack, permit, calendar, task_queue, n, args.start_concurrency, None, args.spread_s
            )
            print(f"started {len(regs)} workflows in {start_s:.1f}s ({n / start_s:.0f}/s)")
            opened_s = await wait_for(
                stack,
                "first task rows",
                "SELECT count(*) FROM tasks",
                n,
                clock0 + lead + args.timeout_s,
                clock0,
            )
            print(f"all first task rows written {opened_s}s after the first start")
            wait = (scheduled - datetime.now(UTC)).total_seconds()
            if wait > 0:
                print(f"waiting {wait:.0f}s for the escalations to fall due ...", flush=True)
                await asyncio.sleep(wait)
            due_clock = monotonic()
            deadline = due_clock + args.timeout_s
            recorded_s = await wait_for(
                stack,
                "escalations recorded",
                "SELECT count(*) FROM escalations",
                n,
                deadline,
                due_clock,
            )
            delivered_s = await wait_for(
                stack,
                "notifications delivered",
                "SELECT count(*) FROM notification_outbox WHERE delivered_at IS NOT NULL",
                n,
                deadline,
                due_clock,
            )
            rows = await stack.pool.fetch(LATENESS_SQL)
            # A step opened after the office opened is due later than the others: the
            # lead was too short for the start phase; such runs are reported incomplete.
            opened_late = await stack.pool.fetchval(
                "SELECT count(*) FROM tasks WHERE opened_at > $1", opens_at
            )
            peak_kb = worker.peak_rss_kb()
            server_pid = stack.server_pid()
            server_peak_kb = proc_status_kb(server_pid, "VmHWM") if server_pid else None
            worker_cpu = worker.cpu_s()
        finally:
            await worker.stop()
        if not args.skip_bare and args.bare_order == "after":
            bare = await bare_phase(stack, args, n)
    return report(
        args,
        worker,
        bare=bare,
        rows=[dict(r) for r in rows],
        opened_late=int(opened_late),
        start_s=start_s,
        opened_s=opened_s,
        lead_s=lead,
        recorded_s=recorded_s,
        delivered_s=delivered_s,
        peak_kb=peak_kb,
        server_peak_kb=server_peak_kb,
        worker_cpu_s=worker_cpu,
        scheduled=scheduled,
        env_before=env_before,
    )


def report(
    args: argparse.Namespace,
    worker: WorkerProcess,
    *,
    bare: dict[str, Any] | None,
    rows: list[dict[str, Any]],
    opened_late: int,
    start_s: float,
    opened_s: float | None,
    lead_s: float,
    recorded_s: float | None,
    delivered_s: float | None,
    peak_kb: int | None,
    server_peak_kb: int | None,
    worker_cpu_s: float | None,
    scheduled: datetime,
    env_before: dict[str, Any],
) -> dict[str, Any]:
    n = args.applications
    columns = {
        name: [float(r[name]) for r in rows if r[name] is not None]
        for name in ("fired", "recorded", "delivered")
    }
    stats = {name: summary_ms(values) for name, values in columns.items()}
    print()
    print_table(
        ["lateness vs scheduled", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        [
            [name, s["count"], s["p50_ms"], s["p90_ms"], s["p99_ms"], s["max_ms"]]
            for name, s in stats.items()
        ],
    )
    rss_mb = None if peak_kb is None else round(peak_kb / 1024, 1)
    print()
    print(f"applications: {n}, escalations recorded: {len(rows)}")
    print(
        f"start: {start_s:.1f}s for {n} ({n / start_s:.0f} starts/s); first rows after {opened_s}s"
    )
    if opened_late:
        print(f"WARNING: {opened_late} steps opened after the office opened (--lead-s too short)")
    print(f"all recorded {recorded_s}, all delivered {delivered_s} s after the scheduled instant")
    print(
        f"worker peak RSS {rss_mb} MB (VmHWM), CPU {worker_cpu_s}s; "
        f"dev server peak RSS {None if server_peak_kb is None else round(server_peak_kb / 1024)} MB"
    )
    # Both drains from exact instants (the last row's now(), the last activity's clock),
    # not from the 0.5 s poll that waits for them.
    drain_s = (
        round(stats["recorded"]["max_ms"] / 1000, 2) if len(columns["recorded"]) == n else None
    )
    loket_rate = round(n / drain_s, 1) if drain_s else None
    ratio = None
    if bare is not None:
        ratio = print_bare(bare, drain_s, loket_rate)
    complete = len(rows) == n and delivered_s is not None and not opened_late
    return {
        "benchmark": "escalation",
        "finished_at": datetime.now(UTC).isoformat(),
        "config": vars(args),
        "environment": {**env_before, "load_average_end": environment()["load_average"]},
        "complete": complete,
        "scheduled_at": scheduled.isoformat(),
        "lead_s": lead_s,
        "start_s": start_s,
        "starts_per_s": n / start_s,
        "first_rows_written_s": opened_s,
        "all_recorded_after_due_s": recorded_s,
        "all_delivered_after_due_s": delivered_s,
        "escalations": len(rows),
        "opened_after_office_opened": opened_late,
        "lateness": stats,
        "worker_peak_rss_kb": peak_kb,
        "worker_rss_samples_kb": worker.rss_samples_kb[
            :: max(1, math.ceil(len(worker.rss_samples_kb) / 300))
        ],
        "worker_cpu_s": worker_cpu_s,
        "dev_server_peak_rss_kb": server_peak_kb,
        "loket_all_recorded_after_due_exact_s": drain_s,
        "loket_drain_rate_per_s": loket_rate,
        "bare": bare,
        "ratio_loket_over_bare_drain_rate": ratio,
    }


def print_bare(
    bare: dict[str, Any], recorded_s: float | None, loket_rate: float | None
) -> float | None:
    """The baseline beside Loket's drain; returns Loket's drain rate over bare's."""
    s = bare["lateness"]
    print()
    print_table(
        ["drain (same N, one instant)", "all done after due s", "rate /s", "p50 ms", "p99 ms"],
        [
            ["loket: escalation recorded", recorded_s, loket_rate, "", ""],
            [
                "bare: activity ran",
                bare["all_ran_after_due_s"],
                bare["drain_rate_per_s"],
                s["p50_ms"],
                s["p99_ms"],
            ],
        ],
    )
    if bare["armed_after_due"]:
        print(f"WARNING: {bare['armed_after_due']} bare timers armed after the due instant")
    ratio = None
    if loket_rate and bare["drain_rate_per_s"]:
        ratio = round(loket_rate / bare["drain_rate_per_s"], 3)
    print(f"ratio Loket drain rate / bare drain rate: {ratio} (goal >= 0.6)")
    return ratio


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--start-concurrency", type=int, default=50, help="concurrent starters")
    parser.add_argument("--at-percent", type=int, default=1, help="of the 1 h step deadline")
    parser.add_argument(
        "--lead-s",
        type=float,
        default=None,
        help="seconds from now until the office opens; default 30 + N x --start-estimate-ms",
    )
    parser.add_argument(
        "--start-estimate-ms",
        type=float,
        default=50.0,
        help="expected cost per start (measured: about 50 ms here)",
    )
    parser.add_argument(
        "--timeout-s", type=float, default=420.0, help="give up this long after the due instant"
    )
    parser.add_argument(
        "--spread-s",
        type=int,
        default=0,
        help="Loket's escalation spread window (LOKET_ESCALATION_SPREAD_S); default 0: every "
        "rule fires at the instant, like the bare baseline's timers (the drain at once)",
    )
    parser.add_argument("--skip-bare", action="store_true", help="no bare baseline phase")
    parser.add_argument(
        "--bare-order",
        choices=["after", "before"],
        default="after",
        help="run the bare phase after (default) or before the Loket phase",
    )
    parser.add_argument(
        "--bare-start-estimate-ms",
        type=float,
        # 10 ms left 351 of 2,000 timers armed after the instant on this machine: the
        # worker's first workflow tasks trail the starts.
        default=20.0,
        help="bare lead: 20 s + N x this before the bare timers are due",
    )
    add_worker_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    finish("escalation", asyncio.run(run(args)))


if __name__ == "__main__":
    main()
