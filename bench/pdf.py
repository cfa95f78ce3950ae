"""Rendering the permit PDF: milliseconds per render and bytes, for each template.

No servers: ``loket.permit_pdf.render`` on realistic documents, the way the
``render_permit`` activity calls it. ``_common`` imports Temporal and asyncpg, so this
script writes its JSON under ``bench/results/`` itself (same file naming).

    .venv/bin/python bench/pdf.py                     # 200 renders per template
    .venv/bin/python bench/pdf.py --renders 50 --profile pbg-v1
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import statistics
import time
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from loket import permit_pdf
from loket.case.permit import PermitDocument, Signer

RESULTS_DIR = Path(__file__).resolve().parent / "results"

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


def measure(template: str, renders: int) -> dict[str, Any]:
    docs = documents(template, renders)
    permit_pdf.render(docs[0])  # warm-up: imports, fpdf2's font metrics, caches
    times_ms, sizes = [], []
    for doc in docs:
        start = time.perf_counter()
        pdf = permit_pdf.render(doc)
        times_ms.append((time.perf_counter() - start) * 1000)
        sizes.append(len(pdf))
    deterministic = all(
        hashlib.sha256(permit_pdf.render(doc)).digest()
        == hashlib.sha256(permit_pdf.render(doc)).digest()
        for doc in docs[:3]
    )
    # Inclusive quantiles interpolate like _common.percentile (numpy's default).
    cuts = statistics.quantiles(times_ms, n=100, method="inclusive")
    return {
        "template": template,
        "renders": renders,
        "median_ms": round(statistics.median(times_ms), 2),
        "p99_ms": round(cuts[98], 2),
        "mean_ms": round(statistics.fmean(times_ms), 2),
        "median_bytes": int(statistics.median(sizes)),
        "deterministic": deterministic,
    }


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=200, help="per template")
    parser.add_argument("--template", action="append", choices=sorted(permit_pdf.LAYOUTS))
    parser.add_argument("--profile", choices=sorted(permit_pdf.LAYOUTS), help="cProfile it")
    parser.add_argument("--top", type=int, default=30, help="profile entries printed")
    args = parser.parse_args()
    if args.profile:
        print(profile(args.profile, args.renders, args.top))
        return
    load_start = os.getloadavg()
    rows = [measure(t, args.renders) for t in (args.template or sorted(permit_pdf.LAYOUTS))]
    headers = ("template", "renders", "median ms", "p99 ms", "mean ms", "bytes", "same bytes")
    keys = ("template", "renders", "median_ms", "p99_ms", "mean_ms", "median_bytes")
    cells = [[str(h) for h in headers]]
    cells += [[*(str(r[k]) for k in keys), "yes" if r["deterministic"] else "NO"] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(headers))]
    for index, line in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))
    payload = {
        "benchmark": "pdf",
        "results": rows,
        "environment": {
            "python": platform.python_version(),
            "fpdf2": metadata.version("fpdf2"),
            "segno": metadata.version("segno"),
            "cpus": os.cpu_count(),
            "load_average_start": load_start,
            "load_average_end": os.getloadavg(),
        },
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"pdf-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"results: bench/results/{path.name}")


if __name__ == "__main__":
    main()
