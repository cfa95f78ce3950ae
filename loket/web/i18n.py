"""Bahasa Indonesia (the default) and English for the pages.

The English text is the key (gettext style): ``translate(text, "en")`` returns it as it
is, ``translate(text, "id")`` looks it up in :data:`INDONESIAN`. Text without an entry is
shown as written, so a missing translation degrades to English rather than to an error;
``tests/web/test_i18n.py`` checks that every text the templates use has an entry.
Event names of the audit trail have their own labels (:data:`EVENT_LABELS`).
"""

from __future__ import annotations

import functools
import logging
import re

from loket.web import billing_texts, performance_texts, readable_texts

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "id"
LANGUAGES = ("id", "en")

INDONESIAN: dict[str, str] = {
    # navigation and layout
    "Permits": "Perizinan",
    "Track": "Lacak",
    "Inbox": "Kotak masuk",
    "Workload": "Beban kerja",
    "Monitoring": "Pemantauan",
    "Sign out": "Keluar",
    "Staff sign-in": "Masuk petugas",
    "Sign in": "Masuk",
    "Username": "Nama pengguna",
    "Password": "Kata sandi",
    "Wrong username or password.": "Nama pengguna atau kata sandi salah.",
    "Public service standard per UU 25/2009. Complaints: SP4N-LAPOR! (lapor.go.id).": (
        "Standar pelayanan publik sesuai UU 25/2009. Pengaduan: SP4N-LAPOR! (lapor.go.id)."
    ),
    "Error": "Kesalahan",
    "Back to the start": "Kembali ke awal",
    "the form has expired or did not come from this site; reload and retry": (
        "formulir sudah kedaluwarsa atau tidak berasal dari situs ini; muat ulang dan coba lagi"
    ),
    # catalog and service standard
    "Permits and their service standards": "Perizinan dan standar pelayanannya",
    "Every permit's requirements, procedure, time, fee, product and complaints channel, as published.": (
        "Persyaratan, prosedur, waktu, biaya, produk dan saluran pengaduan setiap izin, "
        "sebagaimana diumumkan."
    ),
    "Service time": "Waktu pelayanan",
    "working days": "hari kerja",
    "Fee": "Biaya/tarif",
    "Fees": "Biaya",
    "Published formula": "Rumus diumumkan",
    "Service standard": "Standar pelayanan",
    "Fee simulator": "Simulasi biaya",
    "Apply": "Ajukan permohonan",
    "Requirements": "Persyaratan",
    "only when": "hanya jika",
    "Form data": "Data formulir",
    "optional": "tidak wajib",
    "Procedure": "Sistem, mekanisme dan prosedur",
    "Route across the counters": "Alur antarloket",
    "The route across the counters: one lane per counter; parallel reviews side by side.": (
        "Alur berkas antarloket: satu lajur per loket; pemeriksaan paralel berdampingan."
    ),
    "in parallel": "paralel",
    "applicant comes to the counter": "pemohon datang ke loket",
    "clock paused: waiting for the applicant": "waktu berhenti: menunggu pemohon",
    "Working days exclude weekends, national holidays and cuti bersama. Time waiting for the applicant does not count.": (
        "Hari kerja tidak termasuk akhir pekan, hari libur nasional dan cuti bersama. "
        "Waktu menunggu pemohon tidak dihitung."
    ),
    "Item": "Komponen",
    "Formula": "Rumus",
    "Legal basis": "Dasar hukum",
    "waived when": "dibebaskan jika",
    "Parameters": "Parameter",
    "Name": "Nama",
    "Value": "Nilai",
    "Source": "Sumber",
    "Rounding": "Pembulatan",
    "Product": "Produk pelayanan",
    "Complaints": "Penanganan pengaduan",
    # simulator and submission
    "The same formula that issues the bill (SKRD). Fill in what the fee depends on.": (
        "Rumus yang sama dengan penetapan SKRD. Isi data yang menentukan biaya."
    ),
    "Calculate": "Hitung",
    "Estimated fee": "Perkiraan biaya",
    "Amount": "Jumlah",
    "Total": "Total",
    "waived": "dibebaskan",
    "Documents to bring": "Dokumen yang perlu dibawa",
    "Documents to bring to the registration counter": "Dokumen yang dibawa ke loket pendaftaran",
    "Please correct the fields marked below.": "Perbaiki isian yang ditandai di bawah.",
    "Submit application": "Kirim permohonan",
    "Application received": "Permohonan diterima",
    "Registration number": "Nomor registrasi",
    "Access code": "Kode akses",
    "Write down the access code now: it is shown only once and you need it to track your application.": (
        "Catat kode akses sekarang: kode hanya ditampilkan sekali dan diperlukan untuk "
        "melacak permohonan Anda."
    ),
    # tracking
    "Track an application": "Lacak permohonan",
    "Show status": "Tampilkan status",
    "Status": "Status",
    "The service clock is paused: the file waits for you.": (
        "Waktu pelayanan dihentikan sementara: berkas menunggu Anda."
    ),
    "Since": "Sejak",
    "The time already used is kept; it resumes when you send the corrections.": (
        "Waktu yang sudah terpakai tetap tercatat; penghitungan berlanjut setelah Anda "
        "mengirim perbaikan."
    ),
    "Service due": "Batas waktu layanan",
    "Where the file is": "Posisi berkas",
    "Step": "Tahap",
    "Counter": "Loket",
    "State": "Keadaan",
    "Due": "Tenggat",
    "returned to you for corrections": "dikembalikan kepada Anda untuk diperbaiki",
    "waiting for the applicant": "menunggu pemohon",
    "paused": "berhenti",
    "Fee (SKRD)": "Retribusi (SKRD)",
    "History": "Riwayat",
    "Send corrections": "Kirim perbaikan",
    "What you corrected": "Apa yang Anda perbaiki",
    "Corrections sent: the clock runs again.": "Perbaikan terkirim: waktu berjalan kembali.",
    "no application with this registration number and access code": (
        "tidak ada permohonan dengan nomor registrasi dan kode akses ini"
    ),
    # staff
    "Open tasks of your counters, soonest deadline first.": (
        "Tugas terbuka di loket Anda, tenggat terdekat lebih dulu."
    ),
    "Nothing waiting.": "Tidak ada yang menunggu.",
    "Next page": "Halaman berikutnya",
    "First page": "Halaman pertama",
    "overdue": "terlambat",
    "working hours": "jam kerja",
    "working hours left": "jam kerja tersisa",
    "escalated": "dieskalasi",
    "returned to the applicant": "dikembalikan ke pemohon",
    "claimed by": "diambil oleh",
    "Claimed by": "Diambil oleh",
    "attempt": "percobaan",
    "Task": "Tugas",
    "Outcome": "Hasil",
    "Note": "Catatan",
    "Claim": "Ambil tugas",
    "Decision": "Keputusan",
    "Send decision": "Kirim keputusan",
    "Extend the deadline": "Perpanjang tenggat",
    "Extra working time (e.g. 2d or 4h)": "Tambahan waktu kerja (mis. 2d atau 4h)",
    "Reason": "Alasan",
    "Extend": "Perpanjang",
    "Refused attempts": "Percobaan yang ditolak",
    "When": "Waktu",
    "Who": "Siapa",
    "Action": "Tindakan",
    "Code": "Kode",
    "None recorded.": "Tidak ada yang tercatat.",
    "Audit trail": "Jejak audit",
    "Application data": "Data permohonan",
    "Required documents": "Dokumen persyaratan",
    "preview: the bill is not issued yet": "perkiraan: SKRD belum terbit",
    "History of the file": "Riwayat berkas",
    "Task claimed.": "Tugas diambil.",
    "Decision recorded.": "Keputusan tercatat.",
    "Deadline extended.": "Tenggat diperpanjang.",
    # supervisor
    "Not claimed yet": "Belum diambil",
    "Select all": "Pilih semua",
    "Nothing.": "Tidak ada.",
    "Reassign the selected tasks": "Alihkan tugas terpilih",
    "To": "Kepada",
    "back to the counter (nobody)": "kembalikan ke loket (tanpa petugas)",
    "Reassign": "Alihkan",
    "reassigned": "dialihkan",
    "Select at least one task.": "Pilih paling sedikit satu tugas.",
    # administrators and inspectorate
    "Stalled and overdue steps": "Tahap macet dan terlambat",
    "Open": "Buka",
    "Across every agency, worst first: working time overdue, then escalation level.": (
        "Seluruh perangkat daerah, terparah lebih dulu: keterlambatan jam kerja, lalu "
        "tingkat eskalasi."
    ),
    "SLA compliance": "Kepatuhan SLA",
    "Nothing is stalled.": "Tidak ada yang macet.",
    "Agency": "Perangkat daerah",
    "Overdue": "Terlambat",
    "Escalation": "Eskalasi",
    "Escalations": "Eskalasi",
    "Steps closed in the last": "Tahap selesai dalam",
    "days": "hari terakhir",
    "Permit": "Izin",
    "all": "semua",
    "Show": "Tampilkan",
    "No step closed in this period.": "Tidak ada tahap selesai pada periode ini.",
    "Per agency": "Per perangkat daerah",
    "Per counter": "Per loket",
    "Per step": "Per tahap",
    "On time per agency": "Tepat waktu per perangkat daerah",
    "On time per counter": "Tepat waktu per loket",
    "On time per step": "Tepat waktu per tahap",
    "Per step, in detail": "Rincian per tahap",
    "Closed": "Selesai",
    "On time": "Tepat waktu",
    "Late": "Terlambat",
    "Median": "Median",
    "Median and p90: working time used (H:MM), pauses excluded.": (
        "Median dan p90: jam kerja terpakai (J:MM), tanpa waktu berhenti."
    ),
    "Workflow in the Temporal UI": "Workflow di Temporal UI",
    "Submitted": "Diajukan",
    "Calendar version": "Versi kalender",
    "Finished": "Selesai",
    "Steps": "Tahapan",
    "level": "tingkat",
    "Cancel the application": "Batalkan permohonan",
    "Cancel": "Batalkan",
    "Cancel this application? This cannot be undone.": (
        "Batalkan permohonan ini? Tidak dapat dikembalikan."
    ),
    "Recompute deadlines with the current calendar": "Hitung ulang tenggat dengan kalender terkini",
    "Recompute": "Hitung ulang",
    "hash chain intact": "rantai hash utuh",
    "hash chain broken at": "rantai hash rusak pada",
    "Give a reason.": "Berikan alasan.",
    "The application is cancelled.": "Permohonan dibatalkan.",
    "Deadlines recomputed with the current calendar.": "Tenggat dihitung ulang dengan kalender terkini.",
    # values shown from the data: roles, states, outcomes, reasons
    "staff": "petugas",
    "supervisor": "penyelia",
    "admin": "administrator",
    "inspector": "inspektorat",
    "applicant": "pemohon",
    "system": "sistem",
    "in_progress": "dalam proses",
    "approved": "disetujui",
    "rejected": "ditolak",
    "cancelled": "dibatalkan",
    "open": "terbuka",
    "returned": "dikembalikan",
    "done": "selesai",
    "yes": "ya",
    "no": "tidak",
    "approve": "setujui",
    "return": "kembalikan ke pemohon",
    "reject": "tolak",
    "unpaid": "tidak dibayar",
    "returned to the applicant for corrections": "dikembalikan ke pemohon untuk perbaikan",
    "waiting for the applicant's payment": "menunggu pembayaran oleh pemohon",
}

EVENT_LABELS: dict[str, tuple[str, str]] = {
    "application_submitted": ("Permohonan diajukan", "Application submitted"),
    "application_corrected": ("Data permohonan diperbaiki", "Application corrected"),
    "application_finished": ("Permohonan selesai", "Application finished"),
    "step_opened": ("Tahap dibuka", "Step opened"),
    "step_decided": ("Tahap diputuskan", "Step decided"),
    "step_returned": ("Dikembalikan ke pemohon", "Returned to the applicant"),
    "step_resumed": ("Tahap dilanjutkan", "Step resumed"),
    "step_cancelled": ("Tahap dibatalkan", "Step cancelled"),
    "step_skipped": ("Tahap dilewati", "Step skipped"),
    "step_escalated": ("Tahap dieskalasi", "Step escalated"),
    "task_claimed": ("Tugas diambil", "Task claimed"),
    "task_reassigned": ("Tugas dialihkan", "Task reassigned"),
    "clock_paused": ("Waktu tahap dihentikan", "Step clock paused"),
    "clock_resumed": ("Waktu tahap berjalan lagi", "Step clock resumed"),
    "service_clock_paused": ("Waktu layanan dihentikan", "Service clock paused"),
    "service_clock_resumed": ("Waktu layanan berjalan lagi", "Service clock resumed"),
    "fees_assessed": ("Retribusi ditetapkan (SKRD)", "Fees assessed (SKRD)"),
    "deadline_extended": ("Tenggat diperpanjang", "Deadline extended"),
    "deadlines_recomputed": ("Tenggat dihitung ulang", "Deadlines recomputed"),
    "branches_forked": ("Pemeriksaan paralel dimulai", "Parallel reviews started"),
    "branches_joined": ("Pemeriksaan paralel selesai", "Parallel reviews joined"),
    "permit_issued": ("Izin diterbitkan", "Permit issued"),  # issue 10 §2
}

# Features keep their words in modules of their own.
INDONESIAN.update(performance_texts.INDONESIAN)
# Billing (issue 11) keeps its texts in its own module.
INDONESIAN |= billing_texts.INDONESIAN
EVENT_LABELS |= billing_texts.EVENT_LABELS


def pick(cookie: str | None, accept_language: str | None = None) -> str:
    """The language: the cookie's choice, else Indonesian.

    ``Accept-Language`` is deliberately not followed: the mall's public is Indonesian and
    counters' browsers are often set to English; English is one click away.
    """
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


# A value from the data (a status, an outcome) rather than an English sentence.
_IDENTIFIER = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


@functools.lru_cache(maxsize=512)
def warn_missing(text: str, lang: str) -> None:
    # Once per text: the page shows the key as it is (catalog tests catch it in CI).
    log.warning("no %s text for %r: shown as it is", lang, text)


def translate(text: str, lang: str) -> str:
    if lang == "id":
        found = INDONESIAN.get(text)
        if found is None:
            warn_missing(text, lang)
            return text
        return found
    found = ENGLISH.get(text)
    if found is None and _IDENTIFIER.match(text):
        warn_missing(text, lang)
    return found or text


def event_label(event: str, lang: str) -> str:
    labels = EVENT_LABELS.get(event)
    if labels is None:
        warn_missing(event, lang)
        return event
    return labels[0] if lang == "id" else labels[1]


# The readable pages' own texts (12c), and English words for identifiers in the data.
INDONESIAN.update(readable_texts.INDONESIAN)
ENGLISH: dict[str, str] = dict(readable_texts.ENGLISH)
# Texts and event labels of the complaint pages and deadline policies (issue 12b).
from loket.web.complaint_texts import EVENT_LABELS as _EVENTS_12B  # noqa: E402
from loket.web.complaint_texts import INDONESIAN as _TEXTS_12B  # noqa: E402

INDONESIAN.update(_TEXTS_12B)
EVENT_LABELS.update(_EVENTS_12B)
# Texts and event labels of the document pages (10A).
from loket.web.document_texts import ENGLISH as _ENGLISH_10A  # noqa: E402
from loket.web.document_texts import EVENT_LABELS as _EVENTS_10A  # noqa: E402
from loket.web.document_texts import INDONESIAN as _TEXTS_10A  # noqa: E402

INDONESIAN.update(_TEXTS_10A)
ENGLISH.update(_ENGLISH_10A)
EVENT_LABELS.update(_EVENTS_10A)
