"""Worker memory per cached open application, beside a bare workflow's.

``--applications`` PBG applications (default 5,000) are submitted and left open at their
first step, with a worker whose cache holds them all (``--max-cached-workflows`` defaults to
N + warm-up + 100). The worker's resident set (VmRSS) is read after a warm-up and again once
every first task row exists and the worker has gone quiet; the growth divided by N is the
cost of one cached open application. In the same run, a bare worker (``bare_workflow.py``:
a workflow waiting for its first Update) holds the same N workflows: Temporal's own cost.

    .venv/bin/python bench/memory.py --applications 5000
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import uuid
from typing import Any

from _common import (
    Stack,
    WorkerProcess,
    add_worker_args,
    embedded_stack,
    environment,
    finish,
    print_table,
    proc_status_kb,
    start_worker,
    worker_knobs,
)
from _drive import submit_ready
from bare_workflow import BARE_WORKFLOW
from handoff import DEFINITIONS

from loket.calendar_data import covered_years, load_calendar
from loket.route.loader import load_catalog


async def settle(worker: WorkerProcess, quiet_s: float = 3.0) -> int:
    """VmRSS (kB) once the worker's CPU has stopped moving for ``quiet_s``."""
    last = worker.cpu_s() or 0.0
    while True:
        await asyncio.sleep(quiet_s)
        now = worker.cpu_s() or 0.0
        if now - last < 0.05 * quiet_s:
            return proc_status_kb(worker.pid, "VmRSS") or 0
        last = now


async def submit_pbg(stack: Stack, task_queue: str, count: int, concurrency: int) -> None:
    catalog = load_catalog(DEFINITIONS)
    calendar = load_calendar(DEFINITIONS, *covered_years(DEFINITIONS))
    await submit_ready(stack, catalog.permit("PBG"), calendar, task_queue, count, concurrency)


async def start_bare(
    stack: Stack, task_queue: str, count: int, concurrency: int, input_kb: int = 0
) -> None:
    semaphore = asyncio.Semaphore(concurrency)
    # Random text: Loket's wire codec deflates it only to about 3/4 (a PBG's JSON to 1/4).
    args: list[Any] = [3, secrets.token_urlsafe(input_kb * 768)] if input_kb else [3]

    async def one() -> None:
        async with semaphore:
            await stack.client.start_workflow(
                BARE_WORKFLOW,
                args=args,
                id=f"bare-{uuid.uuid4().hex[:12]}",
                task_queue=task_queue,
            )

    await asyncio.gather(*(one() for _ in range(count)))


async def side(
    kind: str, stack: Stack, args: argparse.Namespace, cache: int, input_kb: int = 0
) -> dict[str, float | int]:
    queue = f"memory-{kind}-{uuid.uuid4().hex[:8]}"
    knobs = {**worker_knobs(args), "max_cached_workflows": cache}
    worker = await start_worker(kind, stack, queue, **knobs)
    try:

        async def starter(count: int) -> None:
            if kind == "loket":
                await submit_pbg(stack, queue, count, args.concurrency)
            else:
                await start_bare(stack, queue, count, args.concurrency, input_kb)

        await starter(args.warmup)
        before = await settle(worker)
        await starter(args.applications)
        after = await settle(worker)
        return {
            "rss_before_kb": before,
            "rss_after_kb": after,
            "per_case_kb": round((after - before) / args.applications, 1),
            "peak_rss_kb": worker.peak_rss_kb() or 0,
        }
    finally:
        await worker.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    env_before = environment()
    cache = args.max_cached_workflows or args.applications + args.warmup + 100
    async with embedded_stack() as stack:
        print(f"{args.applications} open PBG applications, worker cache {cache}", flush=True)
        loket = await side("loket", stack, args, cache)
        print(f"{args.applications} bare workflows", flush=True)
        bare = await side("bare", stack, args, cache)
        padded: dict[str, float | int] | None = None
        if args.bare_input_kb:
            print(f"{args.applications} bare workflows, {args.bare_input_kb} KB input", flush=True)
            padded = await side("bare", stack, args, cache, args.bare_input_kb)
    sides = [("loket PBG", loket), ("bare", bare)]
    if padded is not None:
        sides.append((f"bare, {args.bare_input_kb} KB input", padded))
    print_table(
        ["", "RSS before MB", "RSS after MB", "per cached case KB"],
        [
            [k, round(v["rss_before_kb"] / 1024), round(v["rss_after_kb"] / 1024), v["per_case_kb"]]
            for k, v in sides
        ],
    )
    return {
        "applications": args.applications,
        "max_cached_workflows": cache,
        "sandbox": args.sandbox,
        "loket": loket,
        "bare": bare,
        "bare_padded": padded,
        "bare_input_kb": args.bare_input_kb,
        "environment": {**env_before, "load_average_end": environment()["load_average"]},
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--bare-input-kb",
        type=int,
        default=0,
        help="also a bare side whose start input carries this many KB of random text (a PBG's JSON is about 23)",
    )
    add_worker_args(parser)  # --max-cached-workflows defaults to N + warm-up + 100 here
    return parser.parse_args()


def main() -> None:
    finish("memory", asyncio.run(run(parse_args())))


if __name__ == "__main__":
    main()
