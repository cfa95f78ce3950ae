"""Texts of the readable pages (12c): audit details, conditions under "rumus", and the
English words for values that are identifiers in the data (``in_progress``).

Kept apart from :mod:`loket.web.i18n` so the catalog of each feature is its own file;
``i18n`` merges them. English is the key, as in ``i18n``.
"""

from __future__ import annotations

INDONESIAN: dict[str, str] = {
    "Documents to correct": "Dokumen yang harus diperbaiki",
    # the issued permit in the audit trail
    "Permit number": "Nomor izin",
    "Issued on": "Tanggal terbit",
    "Valid until": "Berlaku sampai",
    "SHA-256": "SHA-256",
    # conditions and formulas: the words, and the expression under "rumus"
    "formula": "rumus",
    "The formula as the system computes it": "Rumus sebagaimana dihitung sistem",
    "standard": "standar",
    "Standard service time": "Waktu pelayanan standar",
    "rounded down to a multiple of": "dibulatkan ke bawah ke kelipatan",
    "rounded up to a multiple of": "dibulatkan ke atas ke kelipatan",
    "rounded to the nearest multiple of": "dibulatkan ke kelipatan terdekat",
    "Each branch": "Setiap cabang",
    "Decided": "Diputuskan",
    "decided": "diputuskan",
    "by": "oleh",
    "Skipped": "Dilewati",
    # audit details, one label per value the renderers show
    "Permit type": "Jenis izin",
    "Route version": "Versi alur",
    "Service time rule": "Ketentuan waktu pelayanan",
    "Calendar": "Kalender",
    "Fields corrected": "Isian yang diperbaiki",
    "Result": "Hasil",
    "Goes to": "Diteruskan ke",
    "the applicant": "pemohon",
    "finished: the permit is granted": "selesai: izin diberikan",
    "end: rejected": "berakhir: ditolak",
    "the end of the parallel reviews": "akhir pemeriksaan paralel",
    "condition not met": "syarat tidak terpenuhi",
    "Escalation rule": "Aturan eskalasi",
    "To whom": "Kepada",
    "Recipient": "Penerima",
    "Scheduled at": "Dijadwalkan",
    "Step due": "Tenggat tahap",
    "Paused from": "Berhenti sejak",
    "Paused working time": "Waktu kerja berhenti",
    "Added working time": "Tambahan waktu kerja",
    "Due before": "Tenggat sebelumnya",
    "New deadline": "Tenggat baru",
    "Calendar before": "Kalender sebelumnya",
    "Calendar after": "Kalender sesudahnya",
    "Deadlines": "Tenggat",
    "Parallel step": "Tahap paralel",
    "From": "Dari",
    "nobody": "tidak ada",
    "Details": "Rincian",
    "This event has no description yet": "Peristiwa ini belum memiliki uraian",
    # escalation actions and who receives them
    "remind": "pengingat",
    "notify": "pemberitahuan",
    "escalate": "eskalasi",
    "assignee": "petugas yang menangani",
    "counter": "loket",
    "agency_head": "kepala perangkat daerah",
    "inspectorate": "inspektorat",
    "agency head of": "kepala",
    "supervisor of": "penyelia",
    "counter of": "loket",
    # what a refused attempt tried (the security log's actions)
    "read_task": "membuka tugas",
    "claim": "mengambil tugas",
    "decide": "memutuskan",
    "extend": "memperpanjang tenggat",
    "recompute": "menghitung ulang tenggat",
    "resubmit": "mengirim perbaikan",
    "reassign": "mengalihkan tugas",
    "cancel": "membatalkan permohonan",
    "sign_in": "masuk",
    "track": "melacak permohonan",
    # tracking and task pages
    "Where": "Lokasi",
    "Not decided yet": "Belum diputuskan",
}

# Values that are identifiers in the data, as the English pages say them.
ENGLISH: dict[str, str] = {
    "in_progress": "in progress",
    "return": "return to the applicant",
    "unpaid": "not paid",
    "agency_head": "agency head",
    "formula": "formula",
    "read_task": "open a task",
    "sign_in": "sign in",
}
