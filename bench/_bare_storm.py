"""The bare baseline of ``escalation.py``: N bare workflows whose timers are due at one instant.

Each ``BareEscalation`` workflow (``bare_workflow.py``) sleeps until the shared due instant and
then runs one trivial activity that appends the instant it ran to a file in the run's folder;
no database, no routing core. Same server, same N, the same kind of instant (start + a lead
long enough for every workflow to arm its timer), in the bare worker process. Drain time is
the last activity's instant minus the due instant; the drain rate is N over it.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import Stack, monotonic, start_worker, summary_ms, worker_knobs
from bare_workflow import BARE_ESCALATION

PROGRESS_EVERY_S = 10.0


def read_records(path: Path) -> dict[str, tuple[bool, float]]:
    """workflow id -> (armed late, instant the activity ran); a retried activity counts once."""
    found: dict[str, tuple[bool, float]] = {}
    if not path.exists():
        return found
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            found.setdefault(parts[0], (parts[1] == "1", float(parts[2])))
    return found


async def bare_phase(stack: Stack, args: argparse.Namespace, n: int) -> dict[str, Any]:
    """Start the bare worker, N bare workflows due at one instant, wait until all ran."""
    task_queue = f"bench-bare-escalation-{uuid.uuid4().hex[:8]}"
    record_path = stack.data_dir / f"bare-escalations-{task_queue}.txt"
    worker = await start_worker("bare", stack, task_queue, **worker_knobs(args))
    try:
        lead = 20 + n * args.bare_start_estimate_ms / 1000
        due = datetime.now(UTC) + timedelta(seconds=lead)
        print(f"bare: {n} workflows, every timer due at {due:%H:%M:%S.%f} UTC", flush=True)
        cpu_before = worker.cpu_s() or 0.0
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(n):
            queue.put_nowait(index)

        async def starter() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                await stack.client.start_workflow(
                    BARE_ESCALATION,
                    args=[str(record_path), due.timestamp()],
                    id=f"bare-esc-{task_queue}-{index}",
                    task_queue=task_queue,
                )

        started = monotonic()
        await asyncio.gather(*(starter() for _ in range(args.start_concurrency)))
        start_s = monotonic() - started
        print(f"bare: started {n} in {start_s:.1f}s ({n / start_s:.0f}/s)", flush=True)
        wait = (due - datetime.now(UTC)).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
        due_clock = monotonic()
        last_print = due_clock
        records = read_records(record_path)
        while len(records) < n and monotonic() - due_clock < args.timeout_s:
            await asyncio.sleep(0.5)
            records = read_records(record_path)
            if monotonic() - last_print >= PROGRESS_EVERY_S:
                print(f"  bare ran: {len(records)}/{n} after {monotonic() - due_clock:.0f}s")
                last_print = monotonic()
        cpu_s = (worker.cpu_s() or 0.0) - cpu_before
        peak_kb = worker.peak_rss_kb()
    finally:
        await worker.stop()
    lateness = [ran - due.timestamp() for _, ran in records.values()]
    drain_s = max(lateness) if len(records) == n else None
    armed_late = sum(late for late, _ in records.values())
    return {
        "n": n,
        "due_at": due.isoformat(),
        "start_s": round(start_s, 2),
        "ran": len(records),
        "armed_after_due": armed_late,
        "complete": len(records) == n and not armed_late,
        "lateness": summary_ms(lateness),
        "all_ran_after_due_s": None if drain_s is None else round(drain_s, 2),
        "drain_rate_per_s": None if not drain_s else round(n / drain_s, 1),
        "worker_cpu_s": round(cpu_s, 2),
        "worker_peak_rss_kb": peak_kb,
    }
