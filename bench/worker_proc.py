"""A worker process for the benchmarks: Loket's permit workflow or the bare baseline.

Started by ``_common.start_worker``; prints ``ready`` once it polls and stops on SIGTERM.
The Loket kind is ``worker.build_worker``'s worker (workflow, activities, runner and the
outbox dispatcher), with the slot and cache sizes as knobs; unset knobs keep the SDK
defaults (activities: 50, as ``build_worker``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
from _bare_write import BareWrite
from bare_workflow import BARE_ACTIVITIES, BARE_WORKFLOWS, bare_open_step
from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, UnsandboxedWorkflowRunner, Worker

from loket.logs import configure
from loket.store.db import create_pool
from loket.temporal_codec import DATA_CONVERTER
from worker import build_worker

DEFAULT_MAX_ACTIVITIES = 50  # build_worker's default


def _knobs(args: argparse.Namespace) -> dict[str, Any]:
    knobs: dict[str, Any] = {
        "max_concurrent_activities": args.max_activities or DEFAULT_MAX_ACTIVITIES
    }
    if args.max_workflow_tasks:
        knobs["max_concurrent_workflow_tasks"] = args.max_workflow_tasks
    if args.max_cached_workflows:
        knobs["max_cached_workflows"] = args.max_cached_workflows
    if args.max_workflow_task_polls:
        knobs["workflow_task_poller_behavior"] = PollerBehaviorSimpleMaximum(
            args.max_workflow_task_polls
        )
    return knobs


def _bare(args: argparse.Namespace, client: Client, activities: list[Any]) -> Worker:
    knobs = _knobs(args)
    if args.sandbox == "off":
        knobs["workflow_runner"] = UnsandboxedWorkflowRunner()
    return Worker(
        client,
        task_queue=args.task_queue,
        workflows=BARE_WORKFLOWS,
        activities=activities,
        **knobs,
    )


@contextlib.asynccontextmanager
async def _worker(args: argparse.Namespace, client: Client) -> AsyncIterator[Worker]:
    if args.kind == "bare":
        yield _bare(args, client, BARE_ACTIVITIES)
        return
    pool = await create_pool(args.dsn, max_size=args.pool_size)
    if args.kind == "bare-write":
        writer = BareWrite(pool)
        await writer.create_schema()
        try:
            yield _bare(
                args,
                client,
                [writer.open_step, *(a for a in BARE_ACTIVITIES if a is not bare_open_step)],
            )
        finally:
            await pool.close()
        return
    try:
        async with httpx.AsyncClient() as http:
            # Exactly what `loket worker` runs (no webhook: outbox rows only), with the knobs.
            sandboxed = None if args.sandbox is None else args.sandbox == "on"
            yield build_worker(
                client, pool, args.task_queue, http=http, sandboxed=sandboxed, **_knobs(args)
            )
    finally:
        await pool.close()


async def main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await Client.connect(args.address, data_converter=DATA_CONVERTER)
    async with _worker(args, client) as worker, worker:
        print("ready", flush=True)
        await stop.wait()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=["loket", "bare", "bare-write"], required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--dsn", default="")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--max-workflow-tasks", type=int, default=None)
    parser.add_argument("--max-activities", type=int, default=None)
    parser.add_argument("--max-cached-workflows", type=int, default=None)
    parser.add_argument("--max-workflow-task-polls", type=int, default=None)
    parser.add_argument("--sandbox", choices=["on", "off"], default=None, help="as shipped")
    parser.add_argument("--pool-size", type=int, default=10, help="asyncpg pool (create_pool)")
    return parser.parse_args()


if __name__ == "__main__":
    # Warnings to stderr with their time, as `loket worker` logs them (a long GC pause, a
    # refused batch): the benchmark's own output shows when they happened.
    configure("text", "WARNING", stream=sys.stderr)
    asyncio.run(main(parse_args()))
