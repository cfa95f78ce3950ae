"""Rendering the permit PDF: milliseconds per render and bytes, for each template.

No servers: ``loket.permit_pdf.render`` on realistic documents, the way the
``render_permit`` activity calls it. ``_common`` imports Temporal and asyncpg, so this
script writes its JSON under ``bench/results/`` itself (same file naming).

    .venv/bin/python bench/pdf.py                     # 200 renders per template, beside main's
    .venv/bin/python bench/pdf.py --renders 50 --profile pbg-v1
    .venv/bin/python bench/pdf.py --offload           # thread or render process: the GIL

The baseline, in the same run: ``loket/permit_pdf.py`` as it was at ``--baseline`` (a git
revision, main before issue 13's changes by default), rendering the same documents.

``--offload`` runs the ``render_permit`` activity (PermitActivities, a local file store)
with ``render_processes`` 0 (a thread, as today) and 1, alternating, at ``--concurrency``,
while a coroutine sleeps 1 ms in a loop: its lateness is what the worker's event loop (and
the workflow tasks sharing the GIL) would wait.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import importlib.util
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from loket import permit_pdf
from loket.case.permit import PermitDocument, Signer

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
# main before issue 13's render changes: multi_cell line breaking, one rect() per QR run.
BASELINE_REV = "33b3274"

_SIGNER = Signer(
    position="kepala_dpmptsp",
    title="Kepala Dinas Penanaman Modal dan PTSP Kabupaten Blora",
    name="Dr. Sri Wahyuningsih, S.T., M.M.",
    nip="197205141998032007",
    acting="definitive",
)
_OFFICE = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Blora"
_BASE = "https://loket.blorakab.go.id/verify/"

# What definitions/permits/*.yaml issue: their titles, legal bases and object fields.
_TEMPLATES: dict[str, dict[str, Any]] = {
    "pbg-v1": {
        "type": "PBG",
        "name": "Persetujuan Bangunan Gedung",
        "title": "Persetujuan Bangunan Gedung (PBG)",
        "number": "503/{seq:04}/PBG/DPMPTSP/2026",
        "valid_until": None,
        "nik": True,
        "legal_basis": (
            "PP 16/2021 tentang Peraturan Pelaksanaan UU 28/2002 tentang Bangunan Gedung",
            "UU 1/2022 tentang Hubungan Keuangan antara Pemerintah Pusat dan Pemerintahan "
            "Daerah, ps. 87",
            "Perda Kabupaten Blora tentang Pajak Daerah dan Retribusi Daerah",
        ),
        "object": (
            ("Alamat lokasi bangunan", "Jl. Pemuda No. {seq}, Kelurahan Kunden, Blora"),
            ("Fungsi bangunan", "Hunian (rumah tinggal tunggal)"),
            ("Luas bangunan (m2)", "{area}"),
            ("Jumlah lantai", "2"),
        ),
    },
    "sip-v1": {
        "type": "SIP",
        "name": "Surat Izin Praktik Tenaga Medis dan Tenaga Kesehatan",
        "title": "Surat Izin Praktik (SIP)",
        "number": "503/{seq:04}/SIP/DPMPTSP/2026",
        "valid_until": date(2031, 11, 30),
        "nik": False,
        "legal_basis": (
            "UU 17/2023 tentang Kesehatan, ps. 263-264",
            "PP 28/2024 tentang Peraturan Pelaksanaan UU 17/2023 tentang Kesehatan",
        ),
        "object": (
            ("Profesi", "Dokter gigi"),
            ("Nama fasilitas", "Klinik Pratama Sehat Sentosa {seq}"),
            ("Nomor STR", "KG00000{seq}"),
        ),
    },
    "ptka-v1": {
        "type": "PTKA",
        "name": "Perpanjangan Penggunaan Tenaga Kerja Asing",
        "title": "Notifikasi Perpanjangan Penggunaan Tenaga Kerja Asing",
        "number": "560/{seq:04}/PTKA/DPMPTSP/2026",
        "valid_until": None,
        "nik": False,
        "legal_basis": (
            "UU 1/2022 tentang HKPD, ps. 87 ayat (3)",
            "PP 34/2021 tentang Penggunaan Tenaga Kerja Asing",
            "Perda Kabupaten Blora tentang Pajak Daerah dan Retribusi Daerah",
        ),
        "object": (
            ("Nama TKA", "Nguyễn Văn Minh {seq}"),
            ("Jabatan", "Technical Advisor — Quality Control"),
            ("Jangka waktu (bulan)", "12"),
        ),
    },
}
_HOLDERS = ("Siti Rahayu", "Bambang Setiawan", "PT Cepu Jaya Abadi", "Ni Luh Putu Ayu Ratih")


def documents(template: str, count: int) -> list[PermitDocument]:
    """``count`` different documents of one template (numbers and values vary)."""
    spec = _TEMPLATES[template]
    out = []
    for i in range(count):
        seq = i + 1
        number = spec["number"].replace("{seq:04}", f"{seq:04d}")
        fields = {"seq": str(seq), "area": f"{90 + i % 300}"}
        out.append(
            PermitDocument(
                number=number,
                registration_number=f"{spec['type']}-2026-{seq:06d}",
                permit_type=spec["type"],
                permit_name=spec["name"],
                title=spec["title"],
                template=template,
                issued_on=date(2026, 12, 1),
                valid_until=spec["valid_until"],
                issuing_office=_OFFICE,
                holder_name=_HOLDERS[i % len(_HOLDERS)],
                holder_id_masked=f"3316********{seq % 10000:04d}" if spec["nik"] else None,
                object=tuple((label, value.format(**fields)) for label, value in spec["object"]),
                legal_basis=spec["legal_basis"],
                signer=_SIGNER,
                verify_url=_BASE + number,
            )
        )
    return out


def baseline_module(rev: str) -> ModuleType:
    """``loket/permit_pdf.py`` as it was at ``rev`` (git), imported beside today's."""
    source = subprocess.run(
        ["git", "show", f"{rev}:loket/permit_pdf.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.TemporaryDirectory(prefix="loket-bench-pdf-") as folder:
        path = Path(folder) / "permit_pdf_baseline.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("permit_pdf_baseline", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return module


def _stats(name: str, template: str, times_ms: list[float], sizes: list[int]) -> dict[str, Any]:
    return {
        "renderer": name,
        "template": template,
        "renders": len(times_ms),
        "median_ms": round(statistics.median(times_ms), 2),
        "p99_ms": round(_quantile(times_ms, 99), 2),
        "mean_ms": round(statistics.fmean(times_ms), 2),
        "median_bytes": int(statistics.median(sizes)),
    }


def measure(template: str, renders: int, baseline: ModuleType | None) -> list[dict[str, Any]]:
    """Today's render and the baseline's, interleaved render by render (so that drifting
    machine load hits both), with today's median as a ratio of the baseline's."""
    docs = documents(template, renders)
    renderers = {"current": permit_pdf.render}
    if baseline is not None:
        renderers["baseline"] = baseline.render
    times: dict[str, list[float]] = {name: [] for name in renderers}
    sizes: dict[str, list[int]] = {name: [] for name in renderers}
    for render in renderers.values():
        render(docs[0])  # warm-up: imports, fpdf2's font metrics, caches
    for doc in docs:
        for name, render in renderers.items():
            start = time.perf_counter()
            pdf = render(doc)
            times[name].append((time.perf_counter() - start) * 1000)
            sizes[name].append(len(pdf))
    rows = [_stats(name, template, times[name], sizes[name]) for name in renderers]
    for row in rows:
        base = rows[-1]["median_ms"]
        row["x_baseline"] = round(row["median_ms"] / base, 2) if baseline else "-"
        row["same_bytes_twice"] = all(
            hashlib.sha256(renderers[row["renderer"]](doc)).digest()
            == hashlib.sha256(renderers[row["renderer"]](doc)).digest()
            for doc in docs[:3]
        )
    return rows


def profile(template: str, renders: int, top: int) -> str:
    docs = documents(template, renders)
    permit_pdf.render(docs[0])
    profiler = cProfile.Profile()
    profiler.enable()
    for doc in docs:
        permit_pdf.render(doc)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def _quantile(values: list[float], pct: int) -> float:
    # Inclusive quantiles interpolate like _common.percentile (numpy's default).
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


async def _offload_once(
    processes: int, docs: list[PermitDocument], concurrency: int
) -> dict[str, Any]:
    from activities.permits import PermitActivities  # imports Temporal: only for this mode
    from loket.files import LocalFileStore

    with tempfile.TemporaryDirectory(prefix="loket-bench-pdf-") as folder:
        no_pool: Any = None  # rendering never touches the database pool
        permits = PermitActivities(
            no_pool, LocalFileStore(Path(folder)), "http://bench", render_processes=processes
        )
        try:
            await permits.render_permit(docs[0])  # warm-up: starts the render process
            lags_ms: list[float] = []
            done = asyncio.Event()

            async def ticker() -> None:
                while not done.is_set():
                    start = time.perf_counter()
                    await asyncio.sleep(0.001)
                    lags_ms.append((time.perf_counter() - start - 0.001) * 1000)

            gate = asyncio.Semaphore(concurrency)

            async def one(doc: PermitDocument) -> None:
                async with gate:
                    await permits.render_permit(doc)

            ticking = asyncio.create_task(ticker())
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(one(doc) for doc in docs))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            done.set()
            await ticking
        finally:
            permits.close()
    return {
        "render_processes": processes,
        "renders": len(docs),
        "wall_ms_per_render": round(wall * 1000 / len(docs), 2),
        "own_cpu_ms_per_render": round(cpu * 1000 / len(docs), 2),
        "loop_lag_p50_ms": round(statistics.median(lags_ms), 2),
        "loop_lag_p99_ms": round(_quantile(lags_ms, 99), 2),
        "loop_lag_max_ms": round(max(lags_ms), 2),
    }


def offload(template: str, renders: int, concurrency: int) -> list[dict[str, Any]]:
    docs = documents(template, renders)
    # Alternating, so that drifting machine load hits both sides.
    return [asyncio.run(_offload_once(p, docs, concurrency)) for p in (0, 1, 0, 1)]


def _print_rows(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
    cells = [list(keys), *[[str(row[k]) for k in keys] for row in rows]]
    widths = [max(len(c[i]) for c in cells) for i in range(len(keys))]
    for index, line in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=200, help="per template")
    parser.add_argument("--template", action="append", choices=sorted(permit_pdf.LAYOUTS))
    parser.add_argument("--profile", choices=sorted(permit_pdf.LAYOUTS), help="cProfile it")
    parser.add_argument("--top", type=int, default=30, help="profile entries printed")
    parser.add_argument(
        "--baseline",
        default=BASELINE_REV,
        help="git revision whose loket/permit_pdf.py renders beside today's ('' for none)",
    )
    parser.add_argument("--offload", action="store_true", help="thread or render process")
    parser.add_argument("--concurrency", type=int, default=4, help="renders at once (offload)")
    args = parser.parse_args()
    if args.profile:
        print(profile(args.profile, args.renders, args.top))
        return
    load_start = os.getloadavg()
    if args.offload:
        rows = offload((args.template or ["pbg-v1"])[0], args.renders, args.concurrency)
        _print_rows(rows, tuple(rows[0]))
    else:
        baseline = baseline_module(args.baseline) if args.baseline else None
        templates = args.template or sorted(permit_pdf.LAYOUTS)
        rows = [row for t in templates for row in measure(t, args.renders, baseline)]
        _print_rows(rows, tuple(rows[0]))
    payload = {
        "benchmark": "pdf-offload" if args.offload else "pdf",
        "baseline_rev": None if args.offload else args.baseline,
        "results": rows,
        "environment": {
            "python": platform.python_version(),
            "fpdf2": metadata.version("fpdf2"),
            "zxing-cpp": metadata.version("zxing-cpp"),
            "segno (the baseline's QR)": metadata.version("segno"),
            "cpus": os.cpu_count(),
            "load_average_start": load_start,
            "load_average_end": os.getloadavg(),
        },
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{payload['benchmark']}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"results: bench/results/{path.name}")


if __name__ == "__main__":
    main()
