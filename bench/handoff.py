"""Hand-off latency: a staff decision sent until the next counter's task row exists.

On the dev server (on-disk SQLite, WAL pragmas) and an embedded PostgreSQL, ``--applications``
applications of ``--permit`` (default SIP: three steps) are driven by concurrent clients, at
most ``--concurrency`` at once. Each client sends every decision as the ``decide`` Update and
measures:

* update round trip: ``execute_update`` sent until it returned (the row is written before);
* row visible: sent until a poller (one query every ``--poll-ms``) first saw the next
  counter's task row in PostgreSQL; an upper bound, resolution about the poll interval;
* row written: sent until the ``now()`` PostgreSQL stamped on that row (transaction start).

In the same run, a bare Temporal workflow (``bare_workflow.py``: no database, one trivial
activity per Update) does the same number of Update round trips at the same concurrency;
its "activity ran" instant is the counterpart of "row written". With ``--bare-write`` that
activity commits a transaction shaped like Loket's record (``_bare_write.py``): the floor of
a decision written durably before it answers. Rounds alternate which of the two goes
first. Warm-up applications are driven first and left out of the numbers. Worker CPU is
read while the decisions run; the applications' start is measured apart.

    .venv/bin/python bench/handoff.py --applications 200 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
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
from bare_workflow import BARE_UPDATE, BARE_WORKFLOW
from temporalio.client import Client

from loket.calendar import CalendarSnapshot
from loket.calendar_data import covered_years, load_calendar
from loket.route.loader import load_catalog
from loket.route.model import PermitType, TaskStep
from loket.services.submission import submit_application
from loket.settings import PROJECT_ROOT
from workflows.messages import Actor, ApplicationView, DecisionRequest

DEFINITIONS = PROJECT_ROOT / "definitions"
FORMS: dict[str, dict[str, Any]] = {
    "SIP": {
        "applicant_name": "dr. Ayu",
        "str_number": "STR-123",
        "profession": "dokter",
        "facility_name": "Puskesmas Blora",
    },
    "PBG": {
        "applicant_name": "Siti Rahayu",
        "applicant_nik": "3316014101900001",
        "site_address": "Jl. Pemuda 12, Blora",
        "building_use": "usaha",
        "building_area_m2": 640,
        "floors": 2,
        "fence_length_m": 20,
    },
}
PREFERRED_OUTCOMES = ("approve", "pay", "paid", "issue")
TaskKey = tuple[str, str, int]  # registration number, step id, attempt


# --------------------------------------------------------------------------- the poller


class RowPoller:
    """Watches the task rows of the applications being driven, one query per interval.

    ``seen[key]`` is the start of the first query whose snapshot held the row: the row was
    committed before that instant and after the previous query started.
    """

    def __init__(self, pool: asyncpg.Pool, interval_s: float) -> None:
        self._pool = pool
        self._interval_s = interval_s
        self._watched: dict[str, int] = {}
        self.seen: dict[TaskKey, tuple[float, datetime]] = {}
        self._waiters: dict[TaskKey, asyncio.Future[tuple[float, datetime]]] = {}
        self.queries = 0

    def watch(self, reg: str) -> None:
        self._watched[reg] = self._watched.get(reg, 0) + 1

    def unwatch(self, reg: str) -> None:
        self._watched[reg] -= 1
        if not self._watched[reg]:
            del self._watched[reg]

    async def wait(self, key: TaskKey) -> tuple[float, datetime]:
        if key in self.seen:
            return self.seen[key]
        future = self._waiters.setdefault(key, asyncio.get_running_loop().create_future())
        return await future

    async def run(self) -> None:
        while True:
            if self._watched:
                regs = list(self._watched)
                started = monotonic()
                rows = await self._pool.fetch(
                    "SELECT registration_number, step_id, attempt, updated_at FROM tasks"
                    " WHERE registration_number = ANY($1::text[])",
                    regs,
                )
                self.queries += 1
                for row in rows:
                    key = (row["registration_number"], row["step_id"], row["attempt"])
                    if key not in self.seen:
                        self.seen[key] = (started, row["updated_at"])
                        waiter = self._waiters.pop(key, None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result(self.seen[key])
            await asyncio.sleep(self._interval_s)


# --------------------------------------------------------------------------- measurements


@dataclass
class Round:
    kind: str
    update_rtt_s: list[float] = field(default_factory=list)
    row_visible_s: list[float] = field(default_factory=list)
    row_written_s: list[float] = field(default_factory=list)  # bare: activity ran
    decisions: int = 0
    handoffs: int = 0
    elapsed_s: float = 0.0
    worker_cpu_s: float = 0.0  # while the decisions ran
    applications: int = 0
    submit_cpu_s: float = 0.0  # while the applications were started, before the decisions

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "decisions": self.decisions,
            "handoffs": self.handoffs,
            "elapsed_s": round(self.elapsed_s, 3),
            "decisions_per_s": round(self.decisions / self.elapsed_s, 2),
            "handoffs_per_s": round(self.handoffs / self.elapsed_s, 2),
            "worker_cpu_s": round(self.worker_cpu_s, 2),
            "applications": self.applications,
            "worker_submit_cpu_s": round(self.submit_cpu_s, 2),
            "update_rtt": summary_ms(self.update_rtt_s),
            "row_visible": summary_ms(self.row_visible_s),
            "row_written": summary_ms(self.row_written_s),
        }


def staff_for(permit: PermitType) -> Actor:
    """One staff member serving every counter of the route (it is a benchmark)."""
    counters = sorted({f"{s.agency}/{s.counter}" for s in permit.steps if isinstance(s, TaskStep)})
    return Actor(username="bench", role="staff", counters=tuple(counters))


def pick_outcome(outcomes: tuple[str, ...]) -> str:
    for outcome in PREFERRED_OUTCOMES:
        if outcome in outcomes:
            return outcome
    usable = [o for o in outcomes if o not in ("return", "reject")]
    return usable[0] if usable else outcomes[0]


async def drive_loket(
    client: Client,
    reg: str,
    actor: Actor,
    first: ApplicationView,
    poller: RowPoller,
    into: Round | None,
) -> None:
    """Decide every open step until the permit is finished, measuring each hand-off."""
    handle = client.get_workflow_handle(reg, result_type=ApplicationView)
    view = first
    poller.watch(reg)
    try:
        while view.status == "in_progress":
            step = view.open_steps[0]
            before = {(s.step_id, s.attempt) for s in view.open_steps}
            request = DecisionRequest(
                step_id=step.step_id,
                outcome=pick_outcome(step.outcomes),
                actor=actor,
                # A billed payment step (--permit PBG) is approved with the SSRD's number;
                # every other step ignores it.
                receipt_number=f"SSRD-{reg}",
            )
            sent, sent_wall = monotonic(), time.time()
            view = await handle.execute_update("decide", request, result_type=ApplicationView)
            returned = monotonic()
            opened = [
                (reg, s.step_id, s.attempt)
                for s in view.open_steps
                if (s.step_id, s.attempt) not in before
            ]
            seen = [await poller.wait(key) for key in opened]
            if into is not None:
                into.decisions += 1
                into.update_rtt_s.append(returned - sent)
                for visible_at, written_at in seen:
                    into.handoffs += 1
                    into.row_visible_s.append(visible_at - sent)
                    into.row_written_s.append(written_at.timestamp() - sent_wall)
    finally:
        poller.unwatch(reg)


async def drive_bare(client: Client, workflow_id: str, steps: int, into: Round | None) -> None:
    handle = client.get_workflow_handle(workflow_id)
    for step in range(steps):
        sent, sent_wall = monotonic(), time.time()
        ran_at = await handle.execute_update(BARE_UPDATE, step, result_type=float)
        returned = monotonic()
        if into is not None:
            into.decisions += 1
            into.handoffs += 1
            into.update_rtt_s.append(returned - sent)
            into.row_written_s.append(ran_at - sent_wall)


Job = Callable[[], Awaitable[None]]


async def bounded(concurrency: int, jobs: list[Job]) -> float:
    """Run ``jobs`` at most ``concurrency`` at a time; return the wall time they took."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[None]]) -> None:
        async with semaphore:
            await job()

    started = monotonic()
    await asyncio.gather(*(one(job) for job in jobs))
    return monotonic() - started


# --------------------------------------------------------------------------- the two sides


@dataclass
class LoketSide:
    stack: Stack
    permit: PermitType
    calendar: CalendarSnapshot
    task_queue: str
    poller: RowPoller
    concurrency: int

    async def submit(self, count: int) -> list[tuple[str, ApplicationView]]:
        """Start ``count`` applications; return each with its view once its first task row
        exists (not timed: the hand-offs are)."""
        regs: list[str] = []

        async def one() -> None:
            submitted = await submit_application(
                client=self.stack.client,
                pool=self.stack.pool,
                permit=self.permit,
                calendar=self.calendar,
                form=FORMS[self.permit.id],
                task_queue=self.task_queue,
                now=datetime.now(UTC),
            )
            regs.append(submitted.registration_number)

        await bounded(self.concurrency, [one] * count)
        while True:
            ready = await self.stack.pool.fetchval(
                "SELECT count(DISTINCT registration_number) FROM tasks"
                " WHERE registration_number = ANY($1::text[])",
                regs,
            )
            if ready == len(regs):
                break
            await asyncio.sleep(0.2)
        views = []
        for reg in regs:
            handle = self.stack.client.get_workflow_handle(reg, result_type=ApplicationView)
            views.append((reg, await handle.query("view", result_type=ApplicationView)))
        return views

    async def prepare(self, count: int, into: Round | None) -> list[Job]:
        views = await self.submit(count)
        actor = staff_for(self.permit)
        client = self.stack.client
        return [
            lambda reg=reg, view=view: drive_loket(client, reg, actor, view, self.poller, into)  # type: ignore[misc]
            for reg, view in views
        ]


@dataclass
class BareSide:
    client: Client
    task_queue: str
    steps: int
    concurrency: int

    async def prepare(self, count: int, into: Round | None) -> list[Job]:
        ids = [f"bare-{uuid.uuid4().hex[:12]}" for _ in range(count)]
        for workflow_id in ids:
            await self.client.start_workflow(
                BARE_WORKFLOW, self.steps, id=workflow_id, task_queue=self.task_queue
            )
        return [
            lambda wid=wid: drive_bare(self.client, wid, self.steps, into)  # type: ignore[misc]
            for wid in ids
        ]


# --------------------------------------------------------------------------- main


async def measure(kind: str, side: LoketSide | BareSide, worker: WorkerProcess, n: int) -> Round:
    """Start ``n`` applications (their worker CPU apart), then time their decisions."""
    result = Round(kind, applications=n)
    cpu_start = worker.cpu_s() or 0.0
    jobs = await side.prepare(n, result)
    cpu_decide = worker.cpu_s() or 0.0
    result.submit_cpu_s = cpu_decide - cpu_start
    result.elapsed_s = await bounded(side.concurrency, jobs)
    result.worker_cpu_s = (worker.cpu_s() or 0.0) - cpu_decide
    return result


async def unmeasured(side: LoketSide | BareSide, n: int) -> None:
    await bounded(side.concurrency, await side.prepare(n, None))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    catalog = load_catalog(DEFINITIONS)
    permit = catalog.permit(args.permit)
    calendar = load_calendar(DEFINITIONS, *covered_years(DEFINITIONS))
    env_before = environment()
    async with embedded_stack() as stack:
        loket_queue, bare_queue = (
            f"bench-loket-{uuid.uuid4().hex[:8]}",
            f"bench-bare-{uuid.uuid4().hex[:8]}",
        )
        knobs = worker_knobs(args)
        loket_worker = await start_worker("loket", stack, loket_queue, **knobs)
        bare_kind = "bare-write" if args.bare_write else "bare"
        bare_worker = await start_worker(bare_kind, stack, bare_queue, **knobs)
        poller = RowPoller(stack.pool, args.poll_ms / 1000)
        polling = asyncio.create_task(poller.run())
        try:
            loket = LoketSide(stack, permit, calendar, loket_queue, poller, args.concurrency)
            # Warm-up: imports, sandbox, connection pools, server caches. Not measured.
            print(f"warm-up: {args.warmup} applications")
            await unmeasured(loket, args.warmup)
            # How many Updates one application took, so the bare side does as many.
            steps = round(
                await stack.pool.fetchval(
                    "SELECT count(*)::float / count(DISTINCT registration_number) FROM tasks"
                )
            )
            bare = BareSide(stack.client, bare_queue, steps, args.concurrency)
            await unmeasured(bare, args.warmup)

            rounds: list[Round] = []
            for index in range(args.rounds):
                order = ["bare", "loket"] if index % 2 == 0 else ["loket", "bare"]
                for kind in order:
                    print(f"round {index + 1}/{args.rounds}: {kind} ...", flush=True)
                    if kind == "loket":
                        rounds.append(await measure(kind, loket, loket_worker, args.applications))
                    else:
                        rounds.append(await measure(kind, bare, bare_worker, args.applications))
            loket_rss, bare_rss = loket_worker.peak_rss_kb(), bare_worker.peak_rss_kb()
        finally:
            polling.cancel()
            await loket_worker.stop()
            await bare_worker.stop()
    return report(args, rounds, steps, poller.queries, loket_rss, bare_rss, env_before)


def pooled(rounds: list[Round], kind: str) -> Round:
    total = Round(kind)
    for r in rounds:
        if r.kind != kind:
            continue
        total.update_rtt_s += r.update_rtt_s
        total.row_visible_s += r.row_visible_s
        total.row_written_s += r.row_written_s
        total.decisions += r.decisions
        total.handoffs += r.handoffs
        total.elapsed_s += r.elapsed_s
        total.worker_cpu_s += r.worker_cpu_s
        total.applications += r.applications
        total.submit_cpu_s += r.submit_cpu_s
    return total


def report(
    args: argparse.Namespace,
    rounds: list[Round],
    steps: int,
    poll_queries: int,
    loket_rss_kb: int | None,
    bare_rss_kb: int | None,
    env_before: dict[str, Any],
) -> dict[str, Any]:
    loket, bare = pooled(rounds, "loket"), pooled(rounds, "bare")
    lk, br = loket.as_dict(), bare.as_dict()

    def median_rate(kind: str, what: str) -> float:
        return float(
            statistics.median(getattr(r, what) / r.elapsed_s for r in rounds if r.kind == kind)
        )

    ratios = {
        "update_rtt_p50": lk["update_rtt"]["p50_ms"] / br["update_rtt"]["p50_ms"],
        "update_rtt_p99": lk["update_rtt"]["p99_ms"] / br["update_rtt"]["p99_ms"],
        "next_step_p50 (row written / activity ran)": lk["row_written"]["p50_ms"]
        / br["row_written"]["p50_ms"],
        "throughput (decisions/s)": median_rate("loket", "decisions")
        / median_rate("bare", "decisions"),
        "worker_cpu_per_decision": (loket.worker_cpu_s / loket.decisions)
        / (bare.worker_cpu_s / bare.decisions),
        "worker_cpu_per_start": (loket.submit_cpu_s / loket.applications)
        / (bare.submit_cpu_s / bare.applications),
    }
    print()
    print(
        f"{args.applications} applications of {args.permit} per round x {args.rounds} rounds, "
        f"concurrency {args.concurrency}; bare: {steps} updates per workflow"
        + (
            ", each committing a record-shaped transaction (--bare-write)"
            if args.bare_write
            else ""
        )
    )
    headers = ["measure", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    rows: list[list[object]] = []
    for label, side, key in [
        ("loket update round trip", lk, "update_rtt"),
        ("loket row visible (poll)", lk, "row_visible"),
        ("loket row written (now())", lk, "row_written"),
        ("bare update round trip", br, "update_rtt"),
        ("bare activity ran", br, "row_written"),
    ]:
        s = side[key]
        rows.append([label, s["count"], s["p50_ms"], s["p90_ms"], s["p99_ms"], s["max_ms"]])
    print_table(headers, rows)
    print()
    print_table(
        [
            "round",
            "kind",
            "decisions/s",
            "hand-offs/s",
            "rtt p50 ms",
            "rtt p99 ms",
            "worker cpu s",
            "start cpu s",
        ],
        [
            [
                i + 1,
                r.kind,
                f"{r.decisions / r.elapsed_s:.1f}",
                f"{r.handoffs / r.elapsed_s:.1f}",
                summary_ms(r.update_rtt_s)["p50_ms"],
                summary_ms(r.update_rtt_s)["p99_ms"],
                f"{r.worker_cpu_s:.1f}",
                f"{r.submit_cpu_s:.1f}",
            ]
            for i, r in enumerate(rounds)
        ],
    )
    print()
    print(
        f"median throughput: loket {median_rate('loket', 'decisions'):.1f} decisions/s "
        f"({median_rate('loket', 'handoffs'):.1f} hand-offs/s), "
        f"bare {median_rate('bare', 'decisions'):.1f} updates/s"
    )
    print("ratios loket/bare: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    print(f"worker peak RSS: loket {loket_rss_kb} kB, bare {bare_rss_kb} kB")
    return {
        "benchmark": "handoff",
        "finished_at": datetime.now(UTC).isoformat(),
        "config": vars(args),
        "environment": {**env_before, "load_average_end": environment()["load_average"]},
        "bare_updates_per_workflow": steps,
        "poll_queries": poll_queries,
        "loket": {
            **lk,
            "median_decisions_per_s": median_rate("loket", "decisions"),
            "median_handoffs_per_s": median_rate("loket", "handoffs"),
            "worker_peak_rss_kb": loket_rss_kb,
        },
        "bare": {
            **br,
            "median_updates_per_s": median_rate("bare", "decisions"),
            "worker_peak_rss_kb": bare_rss_kb,
        },
        "ratios_loket_over_bare": ratios,
        "rounds": [r.as_dict() for r in rounds],
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=200, help="per round and side")
    parser.add_argument("--concurrency", type=int, default=50, help="applications driven at once")
    parser.add_argument("--rounds", type=int, default=2, help="each runs bare and loket")
    parser.add_argument("--warmup", type=int, default=10, help="applications, not measured")
    parser.add_argument("--permit", default="SIP", choices=sorted(FORMS))
    parser.add_argument("--poll-ms", type=float, default=5.0, help="task-row poll interval")
    parser.add_argument(
        "--bare-write",
        action="store_true",
        help="the bare activity commits a transaction shaped like Loket's record (_bare_write.py)",
    )
    add_worker_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    finish("handoff", asyncio.run(run(args)))


if __name__ == "__main__":
    main()
