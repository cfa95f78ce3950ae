"""Texts of the readable pages (12c): audit details, conditions under "rumus", field errors,
and the English words for values that are identifiers in the data (``in_progress``).

Kept apart from :mod:`loket.web.i18n` so the catalog of each feature is its own file;
``i18n`` merges them. English is the key, as in ``i18n``.
"""

from __future__ import annotations

INDONESIAN: dict[str, str] = {
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
    # field errors on the forms (codes of the API's field errors)
    "required": "wajib diisi",
    "characters that cannot be stored": "berisi karakter yang tidak dapat disimpan",
    "not a field of this form": "bukan isian formulir ini",
    "too long": "terlalu panjang",
    "too short": "terlalu pendek",
    "must be between": "harus antara",
    "and": "dan",
    "out of the allowed range": "di luar batas yang diizinkan",
    "not in the right format": "formatnya tidak sesuai",
    "choose one of the options": "pilih salah satu pilihan",
    "the fee of this value is out of range": "biaya untuk nilai ini di luar batas",
    "not a valid value": "nilai tidak sah",
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
}

# Field error codes (loket.services.fields, loket.route.form) -> the words on a form.
FIELD_ERRORS: dict[str, str] = {
    "missing": "required",
    "invalid_text": "characters that cannot be stored",
    "unknown_field": "not a field of this form",
    "too_long": "too long",
    "too_short": "too short",
    "out_of_range": "out of the allowed range",
    "invalid_format": "not in the right format",
    "not_a_choice": "choose one of the options",
    "amount_out_of_range": "the fee of this value is out of range",
    "invalid": "not a valid value",
}
