"""Document uploads (10A): throughput and the API's peak memory for one large file, and the
decision latency of applications with documents attached against those without.

On the embedded stack (dev server, pgserver), the worker in its own process
(``worker_proc.py``) and the API in its own process (``loket api``, local file store in a
temporary folder; a copy of the definitions whose upload limit is raised so that the large
file is allowed). Then:

* one ``--size-mb`` upload (default 200) into a PBG slot, the multipart body generated and
  sent in 1 MiB chunks (chunked transfer, never in the client's memory either): wall time,
  MB/s, and the API process's peak RSS (``VmHWM``) before and after. A buffered upload would
  raise the peak by about the file's size; a streamed one by a few chunks;
* ``--applications`` PBG applications, alternately with four small documents attached
  (uploaded through the API) and without; each one's registration decision is sent as the
  ``decide`` Update and its round trip timed, as ``bench/handoff.py`` does. The history's
  bytes per application are read back: only references travel through Temporal.

    .venv/bin/python bench/upload.py --size-mb 200 --applications 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from _common import (
    ROOT,
    Stack,
    embedded_stack,
    environment,
    finish,
    monotonic,
    print_table,
    proc_status_kb,
    start_worker,
    summary_ms,
)

from loket.embedded import free_port
from workflows.messages import Actor, ApplicationView, DecisionRequest

MIB = 1024 * 1024
PDF_HEAD = b"%PDF-1.7\n"
FORM = {
    "applicant_name": "Siti Rahayu",
    "applicant_nik": "3316014101900001",
    "site_address": "Jl. Pemuda 12, Blora",
    "building_use": "usaha",
    "building_area_m2": 640,
    "floors": 2,
    "fence_length_m": 20,
}
SLOTS = ("land_title", "identity", "architecture_drawings", "environmental_document")
FRONT = Actor(username="bench", role="staff", counters=("dpmptsp/front_office",))


def definitions_with_limit(target: Path, limit_mb: int) -> Path:
    """A copy of the definitions whose PBG upload limits are ``limit_mb``."""
    shutil.copytree(ROOT / "definitions", target)
    pbg = target / "permits" / "pbg.yaml"
    text = pbg.read_text().replace("max_size_mb: 10}", f"max_size_mb: {limit_mb}}}")
    pbg.write_text(text.replace("max_size_mb: 50", f"max_size_mb: {limit_mb}"))
    return target


async def start_api(stack: Stack, task_queue: str, workdir: Path, limit_mb: int) -> Any:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": stack.dsn,
        "LOKET_TEMPORAL_ADDRESS": stack.address,
        "LOKET_TEMPORAL_TASK_QUEUE": task_queue,
        "LOKET_API_PORT": str(port),
        "LOKET_FILE_STORE_URL": f"file://{workdir / 'files'}",
        "LOKET_DEFINITIONS_DIR": str(definitions_with_limit(workdir / "definitions", limit_mb)),
        "LOKET_TRACK_PER_IP": "1000000",
        "LOKET_TRACK_PER_APPLICATION": "1000000",
        "LOKET_LOG_LEVEL": "WARNING",
    }
    loket = Path(sys.executable).parent / "loket"
    process = await asyncio.create_subprocess_exec(
        str(loket), "api", cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(600):
            try:
                if (await http.get("/api/public/permits")).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not start")


def multipart(size: int, boundary: str) -> AsyncIterator[bytes]:
    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        yield PDF_HEAD
        left = size - len(PDF_HEAD)
        chunk = b"\x00" * MIB
        while left > 0:
            part = chunk[: min(MIB, left)]
            left -= len(part)
            yield part
        yield f"\r\n--{boundary}--\r\n".encode()

    return body()


async def upload(
    http: httpx.AsyncClient, reg: str, code: str, slot: str, size: int
) -> httpx.Response:
    boundary = uuid.uuid4().hex
    return await http.post(
        f"/api/public/applications/{reg}/documents/{slot}",
        content=multipart(size, boundary),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Access-Code": code,
            "Idempotency-Key": uuid.uuid4().hex,
        },
        timeout=600,
    )


async def submit(http: httpx.AsyncClient, stack: Stack) -> tuple[str, str]:
    r = await http.post(
        "/api/public/applications",
        json={"permit_type": "PBG", "form": FORM},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    r.raise_for_status()
    reg, code = r.json()["registration_number"], r.json()["access_code"]
    for _ in range(600):
        if await stack.pool.fetchval("SELECT 1 FROM tasks WHERE registration_number = $1", reg):
            return reg, code
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{reg} never registered")


async def history_bytes(stack: Stack, reg: str) -> int:
    handle = stack.client.get_workflow_handle(reg)
    history = await handle.fetch_history()
    return len(history.to_json().encode())


async def run(args: argparse.Namespace) -> dict[str, Any]:
    limit_mb = max(args.size_mb + 1, 60)
    async with embedded_stack() as stack:
        task_queue = f"bench-upload-{uuid.uuid4()}"
        worker = await start_worker("loket", stack, task_queue)
        workdir = Path(tempfile.mkdtemp(prefix="loket-bench-upload-"))
        api, url = await start_api(stack, task_queue, workdir, limit_mb)
        try:
            async with httpx.AsyncClient(base_url=url) as http:
                # 1. One large file.
                reg, code = await submit(http, stack)
                small = await upload(http, reg, code, "land_title", 64 * 1024)
                small.raise_for_status()
                before_kb = proc_status_kb(api.pid, "VmHWM") or 0
                started = monotonic()
                big = await upload(http, reg, code, "identity", args.size_mb * MIB)
                elapsed = monotonic() - started
                big.raise_for_status()
                after_kb = proc_status_kb(api.pid, "VmHWM") or 0
                large = {
                    "size_mb": args.size_mb,
                    "elapsed_s": round(elapsed, 2),
                    "mb_per_s": round(args.size_mb / elapsed, 1),
                    "api_peak_rss_before_mb": round(before_kb / 1024, 1),
                    "api_peak_rss_after_mb": round(after_kb / 1024, 1),
                    "api_peak_rss_growth_mb": round((after_kb - before_kb) / 1024, 1),
                }
                # 2. Decisions with and without documents.
                rtt: dict[str, list[float]] = {"with documents": [], "without": []}
                hist: dict[str, list[int]] = {"with documents": [], "without": []}
                for i in range(args.applications):
                    kind = "with documents" if i % 2 == 0 else "without"
                    reg, code = await submit(http, stack)
                    if kind == "with documents":
                        for slot in SLOTS:
                            (await upload(http, reg, code, slot, 200 * 1024)).raise_for_status()
                    handle = stack.client.get_workflow_handle(reg, result_type=ApplicationView)
                    request = DecisionRequest(
                        step_id="registration", outcome="approve", actor=FRONT
                    )
                    sent = monotonic()
                    await handle.execute_update("decide", request, result_type=ApplicationView)
                    rtt[kind].append(monotonic() - sent)
                    hist[kind].append(await history_bytes(stack, reg))
        finally:
            api.terminate()
            await api.wait()
            await worker.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(
        ["upload", "MB", "s", "MB/s", "API peak RSS before", "after", "growth"],
        [
            [
                "one file",
                large["size_mb"],
                large["elapsed_s"],
                large["mb_per_s"],
                large["api_peak_rss_before_mb"],
                large["api_peak_rss_after_mb"],
                large["api_peak_rss_growth_mb"],
            ]
        ],
    )
    decisions = {k: summary_ms(v) for k, v in rtt.items()}
    print_table(
        ["decide Update", "n", "p50 ms", "p90 ms", "max ms", "history bytes (median)"],
        [
            [
                k,
                len(rtt[k]),
                decisions[k]["p50_ms"],
                decisions[k]["p90_ms"],
                decisions[k]["max_ms"],
                statistics.median(hist[k]),
            ]
            for k in rtt
        ],
    )
    return {
        "environment": environment(),
        "large_upload": large,
        "decisions": decisions,
        "history_bytes_median": {k: statistics.median(v) for k, v in hist.items()},
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--applications", type=int, default=20)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    finish("upload", asyncio.run(run(args)))


if __name__ == "__main__":
    main()
