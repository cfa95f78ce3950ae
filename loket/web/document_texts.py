"""Indonesian texts, English words for identifiers and audit event labels of the document
pages (10A); :mod:`loket.web.i18n` adds them to its catalogs."""

from __future__ import annotations

INDONESIAN: dict[str, str] = {
    "Documents": "Dokumen",
    "Document": "Dokumen",
    "Versions": "Versi",
    "Verdicts": "Hasil pemeriksaan",
    "Upload": "Unggah",
    "Upload again": "Unggah ulang",
    "required": "wajib",
    "optional": "tidak wajib",
    "nothing uploaded yet": "belum diunggah",
    "asked to upload again": "diminta diunggah ulang",
    "complete": "lengkap",
    "incomplete": "tidak lengkap",
    "not_applicable": "tidak berlaku",
    "not checked": "belum diperiksa",
    "Documents to correct (on return)": "Dokumen yang harus diperbaiki (jika dikembalikan)",
    "Check of each document": "Pemeriksaan tiap dokumen",
    "Upload for the applicant (walk-in)": "Unggah untuk pemohon (datang langsung)",
    "Document uploaded.": "Dokumen diunggah.",
    "Upload your documents": "Unggah dokumen Anda",
    "accepted": "jenis",
    "max": "maks.",
    "Download": "Unduh",
    "Version": "Versi",
    "Verdict": "Hasil pemeriksaan",
}

ENGLISH: dict[str, str] = {"not_applicable": "not applicable"}

EVENT_LABELS: dict[str, tuple[str, str]] = {
    "document_uploaded": ("Dokumen diunggah", "Document uploaded"),
    "document_checked": ("Dokumen diperiksa", "Document checked"),
}
