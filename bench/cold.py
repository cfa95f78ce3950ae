"""Cold cases: the last step's decision on a PBG application evicted from the worker's cache.

One Loket worker with a small ``--max-cached-workflows`` (default 10). Unloaded: one client,
one decision at a time. Two phases, alternating order over ``--rounds``:

* cached: an application is driven through every step up to the last (issuance), and that
  last decision is sent at once: the workflow is the most recently used one in the cache;
* cold: ``--applications`` + cache + 2 applications are driven up to the last step, then
  the last decision is sent on the first ``--applications`` of them: by then the LRU cache
  holds only the most recent ones, so each of those workflow tasks replays the whole
  history (fetched by the worker from the server) before it runs the Update.

The history replayed (events, JSON bytes) is read with ``fetch_history`` before each cold
decision. Both phases send the same decision (issuance: number the permit, render its PDF).

    .venv/bin/python bench/cold.py --applications 20 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from _common import (
    add_worker_args,
    embedded_stack,
    environment,
    finish,
    print_table,
    start_worker,
    summary_ms,
    worker_knobs,
)
from _drive import Decider, catalog_pbg, submit_ready

from loket.calendar_data import covered_years, load_calendar
from loket.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"
DEFAULT_CACHE = 10


async def run(args: argparse.Namespace) -> dict[str, Any]:
    env_before = environment()
    permit = catalog_pbg()
    last_step = permit.steps[-1].id
    calendar = load_calendar(DEFINITIONS, *covered_years(DEFINITIONS))
    cache = args.max_cached_workflows or DEFAULT_CACHE
    n = args.applications
    cached_s: list[float] = []
    cold_s: list[float] = []
    events: list[int] = []
    sizes: list[int] = []
    async with embedded_stack() as stack:
        task_queue = f"bench-cold-{uuid.uuid4().hex[:8]}"
        knobs = {**worker_knobs(args), "max_cached_workflows": cache}
        worker = await start_worker("loket", stack, task_queue, **knobs)
        decider = Decider(stack, permit)

        async def to_last(count: int) -> list[tuple[str, Any]]:
            ready = await submit_ready(stack, permit, calendar, task_queue, count)
            return [(reg, await decider.drive_until(reg, view, last_step)) for reg, view in ready]

        async def cached_phase(count: int, into: list[float] | None) -> None:
            for reg, view in await submit_ready(stack, permit, calendar, task_queue, count):
                view = await decider.drive_until(reg, view, last_step)
                _, rtt = await decider.decide(reg, view, last_step)
                if into is not None:
                    into.append(rtt)

        async def cold_phase(count: int, into: list[float] | None) -> None:
            waiting = await to_last(count + cache + 2)
            # --control decides the most recent ones instead, still cached: the check that
            # the cold phase's extra time is the eviction, not its own ordering.
            chosen = waiting[-count:] if args.control else waiting[:count]
            for reg, view in chosen:
                history = await stack.client.get_workflow_handle(reg).fetch_history()
                _, rtt = await decider.decide(reg, view, last_step)
                if into is not None:
                    into.append(rtt)
                    events.append(len(history.events))
                    sizes.append(len(history.to_json()))

        try:
            print(f"warm-up: {args.warmup} applications each way (not measured)", flush=True)
            await cached_phase(args.warmup, None)
            await cold_phase(args.warmup, None)
            for index in range(args.rounds):
                order = ["cached", "cold"] if index % 2 == 0 else ["cold", "cached"]
                for kind in order:
                    print(f"round {index + 1}/{args.rounds}: {kind} ...", flush=True)
                    if kind == "cached":
                        await cached_phase(n, cached_s)
                    else:
                        await cold_phase(n, cold_s)
            peak_kb = worker.peak_rss_kb()
        finally:
            await worker.stop()
    return report(args, cache, cached_s, cold_s, events, sizes, peak_kb, env_before)


def report(
    args: argparse.Namespace,
    cache: int,
    cached_s: list[float],
    cold_s: list[float],
    events: list[int],
    sizes: list[int],
    peak_kb: int | None,
    env_before: dict[str, Any],
) -> dict[str, Any]:
    cached, cold = summary_ms(cached_s), summary_ms(cold_s)
    ratios = {
        "p50": round(cold["p50_ms"] / cached["p50_ms"], 3),
        "p99": round(cold["p99_ms"] / cached["p99_ms"], 3),
    }
    history = {
        "events_min": min(events),
        "events_max": max(events),
        "bytes_min": min(sizes),
        "bytes_max": max(sizes),
        "bytes_median": sorted(sizes)[len(sizes) // 2],
    }
    print()
    print(f"PBG, last step's decision, concurrency 1, worker cache {cache} workflows")
    print_table(
        ["last decision", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        [
            [kind, s["count"], s["p50_ms"], s["p90_ms"], s["p99_ms"], s["max_ms"]]
            for kind, s in (("cached", cached), ("cold (full replay)", cold))
        ],
    )
    print(f"ratio cold / cached: p50 {ratios['p50']}, p99 {ratios['p99']} (goal <= 2)")
    print(
        f"history replayed: {history['events_min']}-{history['events_max']} events, "
        f"{history['bytes_min']}-{history['bytes_max']} bytes of JSON "
        f"(median {history['bytes_median']}); worker peak RSS {peak_kb} kB"
    )
    return {
        "benchmark": "cold",
        "finished_at": datetime.now(UTC).isoformat(),
        "config": {**vars(args), "max_cached_workflows": cache},
        "environment": {**env_before, "load_average_end": environment()["load_average"]},
        "cached": cached,
        "cold": cold,
        "ratio_cold_over_cached": ratios,
        "history_replayed": history,
        "worker_peak_rss_kb": peak_kb,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=20, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=2, help="each runs cached and cold")
    parser.add_argument("--warmup", type=int, default=2, help="applications, not measured")
    parser.add_argument(
        "--control",
        action="store_true",
        help="check: the cold phase decides its most recent (still cached) applications",
    )
    add_worker_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    finish("cold", asyncio.run(run(args)))


if __name__ == "__main__":
    main()
