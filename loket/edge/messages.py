"""Words for error codes, in Bahasa Indonesia and English, keyed by code.

Codes are the contract (tests and clients read them); these sentences are only what a
person reads. Refusal codes come from :class:`loket.refusal.RefusalCode`; the others are
the edge's own (not found, sign-in, limits, faults). ``{name}`` placeholders are filled
from the error's params; a missing one shows as ``?`` rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_LANGUAGE = "en"  # the JSON API's; the pages default to Indonesian

ENGLISH: dict[str, str] = {
    # refusals (loket.refusal.RefusalCode)
    "not_registered": "the application is still being registered; retry in a moment",
    "closed": "the application is closed ({result}); nothing can change",
    "unknown_step": "no such task",
    "step_not_open": "step '{step_id}' is not open",
    "waiting_for_applicant": "step '{step_id}' waits for the applicant's corrections",
    "unknown_outcome": "'{outcome}' is not an outcome of step '{step_id}' (choose: {outcomes})",
    "already_decided": "step '{step_id}' has been decided already",
    "not_your_counter": "no such task at your counters",
    "claimed_by_other": "step '{step_id}' is claimed by {claimed_by}",
    "wrong_role": "your role ({role}) may not do this",
    "nothing_to_resubmit": "nothing is waiting for the applicant's corrections",
    "invalid_form": "the form has errors in: {fields}",
    "invalid_text": "the text contains characters that cannot be stored",
    "invalid_duration": "'{extra}' is not a valid working-time duration",
    "outside_calendar": "the deadline would fall outside the calendar's known years",
    "assignee_not_serving": "{to} does not serve the step's counter",
    "amount_out_of_range": "the amount of '{item}' is out of range",
    "store_refused": "the data could not be stored",
    # deemed approval and complaints (issue 12b)
    "not_applicant_outcome": "you may not choose '{outcome}' at step '{step_id}' (you may: {choices})",
    "survey_not_open": "the survey opens when the application is finished",
    "survey_already_answered": "this application's survey has been answered already",
    # billing and payment (issue 11)
    "bill_unknown": "no bill has the billing code {billing_code}",
    "bill_already_paid": "bill {billing_code} has been paid already",
    "bill_not_open": "bill {billing_code} is {status}; it can no longer be paid",
    "bill_expired": "bill {billing_code} was payable until {pay_by}",
    "bill_amount_mismatch": "bill {billing_code} is paid only with its exact amount ({expected})",
    "bill_limit_reached": "an application has at most {limit} bills",
    "receipt_number_required": "approving a billed payment needs the receipt number (SSRD)",
    "payment_bank_unknown": "no payment channel '{bank}'",
    "payment_signature_invalid": "the callback's signature is missing or wrong",
    "payment_timestamp_stale": "the callback's timestamp is more than {window_s} s away",
    "payment_transaction_reused": "transaction {transaction_id} was recorded for another bill",
    "statement_invalid": "the statement cannot be read: {reason}",
    # documents (10A)
    "unknown_document": "'{slot}' is not a document of this application",
    "document_type_refused": "document '{slot}' must be one of: {accept} (the content is {found})",
    "document_too_large": "document '{slot}' is larger than {max_mb} MB",
    "document_not_returned": "document '{slot}' was not asked to be corrected (asked: {asked})",
    "documents_locked": "documents can be uploaded at submission and when the file is returned",
    "corrections_required": "a return at step '{step_id}' must name the documents to correct",
    "document_not_found": "no such document",
    # issued permit (issue 10 §2)
    "permit_not_numbered": "step '{step_id}' issues the permit: it must be numbered first",
    "no_signing_official": "nobody holds the signing position '{position}' on {date}",
    "permit_being_issued": "the permit is being issued; retry in a moment",
    "permit_not_rendered": "the permit's document could not be produced; retry later",
    "page_invalid": "'{field}' is not valid: a page holds 1 to {max_limit} rows, and 'after' is a cursor the list gave",
    "issued_permit_not_found": "no issued permit {number}",
    "permit_file_too_large": "the file is larger than {limit} bytes: it is not the issued permit",
    "permit_not_issued": "no permit has been issued for {registration_number} yet",
    # the edge's own
    "not_found": "not found",
    "task_not_found": "no task '{step_id}' of {registration_number} at your counters",
    "application_not_found": "no application {registration_number}",
    "permit_not_found": "no permit type '{permit_id}'",
    "tracking_not_found": "no application with this registration number and access code",
    "submission_code_changed": (
        "application {registration_number} was submitted with this key; its access code has"
        " been renewed since: use the new code"
    ),
    "dataset_not_found": "no open dataset '{dataset_id}'",
    "user_not_found": "no active user '{username}'",
    "method_not_allowed": "method not allowed",
    "unauthorized": "not signed in, or the session has expired",
    "wrong_credentials": "wrong username or password",
    "forbidden": "this needs the role {roles}",
    "csrf_refused": "the form has expired or did not come from this site; reload and retry",
    "invalid_request": "invalid request: {fields}",
    "idempotency_key_missing": "send an Idempotency-Key header (1-100 letters, digits, . _ : -)",
    "body_too_large": "the request body is larger than {limit} bytes",
    "body_too_complex": "the request body has more than {limit} {what}",
    "rate_limited": "too many requests; retry in {retry_after} s",
    "signin_locked": "too many failed sign-ins; retry in {retry_after} s",
    "temporal_unavailable": "the workflow service is unavailable; retry in a moment",
    "database_unavailable": "the database is unavailable; retry in a moment",
    "update_pending": "the change is still being processed; retry with the same Idempotency-Key",
    "update_failed": "the change could not be made; it has been logged",
    "conflict": "the change conflicts with the application's state",
    "internal_error": "internal error; it has been logged",
    "http_error": "the request cannot be answered",
    "bad_request": "the request cannot be answered",
    "service_unavailable": "the service is unavailable; retry in a moment",
}

INDONESIAN: dict[str, str] = {
    "not_registered": "permohonan masih didaftarkan; coba lagi sebentar lagi",
    "closed": "permohonan sudah selesai ({result}); tidak ada yang dapat diubah",
    "unknown_step": "tugas tidak ditemukan",
    "step_not_open": "tahap '{step_id}' tidak sedang terbuka",
    "waiting_for_applicant": "tahap '{step_id}' menunggu perbaikan dari pemohon",
    "unknown_outcome": "'{outcome}' bukan hasil tahap '{step_id}' (pilih: {outcomes})",
    "already_decided": "tahap '{step_id}' sudah diputuskan",
    "not_your_counter": "tugas tidak ditemukan di loket Anda",
    "claimed_by_other": "tahap '{step_id}' sedang dikerjakan oleh {claimed_by}",
    "wrong_role": "peran Anda ({role}) tidak boleh melakukan ini",
    "nothing_to_resubmit": "tidak ada yang menunggu perbaikan dari pemohon",
    "invalid_form": "formulir berisi kesalahan pada: {fields}",
    "invalid_text": "teks berisi karakter yang tidak dapat disimpan",
    "invalid_duration": "'{extra}' bukan lama waktu kerja yang sah",
    "outside_calendar": "tenggat akan jatuh di luar tahun yang dikenal kalender",
    "assignee_not_serving": "{to} tidak melayani loket tahap ini",
    "amount_out_of_range": "jumlah '{item}' di luar batas",
    "store_refused": "data tidak dapat disimpan",
    # deemed approval and complaints (issue 12b)
    "not_applicant_outcome": "Anda tidak dapat memilih '{outcome}' pada tahap '{step_id}' (dapat: {choices})",
    "survey_not_open": "survei dibuka setelah permohonan selesai",
    "survey_already_answered": "survei untuk permohonan ini sudah diisi",
    "bill_unknown": "tidak ada tagihan dengan kode bayar {billing_code}",
    "bill_already_paid": "tagihan {billing_code} sudah dibayar",
    "bill_not_open": "tagihan {billing_code} berstatus {status}; tidak dapat dibayar lagi",
    "bill_expired": "tagihan {billing_code} hanya dapat dibayar sampai {pay_by}",
    "bill_amount_mismatch": (
        "tagihan {billing_code} hanya dapat dibayar dengan jumlah yang tepat ({expected})"
    ),
    "bill_limit_reached": "satu permohonan paling banyak memiliki {limit} tagihan",
    "receipt_number_required": "menyetujui pembayaran tagihan memerlukan nomor bukti bayar (SSRD)",
    "payment_bank_unknown": "tidak ada saluran pembayaran '{bank}'",
    "payment_signature_invalid": "tanda tangan callback tidak ada atau salah",
    "payment_timestamp_stale": "stempel waktu callback berselisih lebih dari {window_s} detik",
    "payment_transaction_reused": "transaksi {transaction_id} sudah tercatat untuk tagihan lain",
    "statement_invalid": "rekening koran tidak dapat dibaca: {reason}",
    # dokumen (10A)
    "unknown_document": "'{slot}' bukan dokumen permohonan ini",
    "document_type_refused": "dokumen '{slot}' harus berjenis: {accept} (isinya {found})",
    "document_too_large": "dokumen '{slot}' lebih dari {max_mb} MB",
    "document_not_returned": "dokumen '{slot}' tidak diminta untuk diperbaiki (diminta: {asked})",
    "documents_locked": "dokumen dapat diunggah saat pengajuan dan saat berkas dikembalikan",
    "corrections_required": "pengembalian pada tahap '{step_id}' harus menyebut dokumen yang diperbaiki",
    "document_not_found": "dokumen tidak ditemukan",
    "permit_not_numbered": "tahap '{step_id}' menerbitkan izin: izin harus diberi nomor dahulu",
    "no_signing_official": "tidak ada pejabat penandatangan '{position}' pada {date}",
    "permit_being_issued": "izin sedang diterbitkan; coba lagi sebentar lagi",
    "permit_not_rendered": "dokumen izin tidak dapat dibuat; coba lagi nanti",
    "page_invalid": "'{field}' tidak sah: satu halaman memuat 1 sampai {max_limit} baris, dan 'after' adalah kursor dari daftar ini",
    "issued_permit_not_found": "tidak ada izin terbit bernomor {number}",
    "permit_file_too_large": "berkas lebih dari {limit} byte: bukan dokumen izin yang diterbitkan",
    "permit_not_issued": "belum ada izin yang diterbitkan untuk {registration_number}",
    "not_found": "tidak ditemukan",
    "task_not_found": "tidak ada tugas '{step_id}' untuk {registration_number} di loket Anda",
    "application_not_found": "tidak ada permohonan {registration_number}",
    "permit_not_found": "tidak ada jenis izin '{permit_id}'",
    "tracking_not_found": "tidak ada permohonan dengan nomor pendaftaran dan kode akses ini",
    "submission_code_changed": (
        "permohonan {registration_number} sudah diajukan dengan kunci ini; kode aksesnya telah"
        " diperbarui: gunakan kode yang baru"
    ),
    "dataset_not_found": "tidak ada set data terbuka '{dataset_id}'",
    "user_not_found": "tidak ada pengguna aktif '{username}'",
    "method_not_allowed": "metode tidak diizinkan",
    "unauthorized": "belum masuk, atau sesi sudah berakhir",
    "wrong_credentials": "nama pengguna atau kata sandi salah",
    "forbidden": "ini memerlukan peran {roles}",
    "csrf_refused": (
        "formulir sudah kedaluwarsa atau tidak berasal dari situs ini; muat ulang dan coba lagi"
    ),
    "invalid_request": "permintaan tidak sah: {fields}",
    "idempotency_key_missing": "kirim header Idempotency-Key (1-100 huruf, angka, . _ : -)",
    "body_too_large": "isi permintaan lebih dari {limit} byte",
    "body_too_complex": "isi permintaan memiliki lebih dari {limit} {what}",
    "rate_limited": "terlalu banyak permintaan; coba lagi dalam {retry_after} detik",
    "signin_locked": "terlalu banyak gagal masuk; coba lagi dalam {retry_after} detik",
    "temporal_unavailable": "layanan alur kerja tidak tersedia; coba lagi sebentar lagi",
    "database_unavailable": "basis data tidak tersedia; coba lagi sebentar lagi",
    "update_pending": "perubahan masih diproses; ulangi dengan Idempotency-Key yang sama",
    "update_failed": "perubahan tidak dapat dilakukan; sudah dicatat",
    "conflict": "perubahan bertentangan dengan keadaan permohonan",
    "internal_error": "kesalahan internal; sudah dicatat",
    "http_error": "permintaan tidak dapat dijawab",
    "bad_request": "permintaan tidak dapat dijawab",
    "service_unavailable": "layanan tidak tersedia; coba lagi sebentar lagi",
}

CATALOGS = {"en": ENGLISH, "id": INDONESIAN}


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _as_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def message(code: str, params: Mapping[str, Any] | None = None, lang: str = "en") -> str:
    """The sentence for ``code`` in ``lang`` (English when unknown), params filled in."""
    catalog = CATALOGS.get(lang, ENGLISH)
    template = catalog.get(code) or ENGLISH.get(code) or code.replace("_", " ")
    values = _Params({k: _as_text(v) for k, v in (params or {}).items()})
    return template.format_map(values)


def pick_language(accept_language: str | None) -> str:
    """The JSON API answers in English unless the client prefers Indonesian first."""
    if accept_language:
        first = accept_language.split(",")[0].strip().lower()
        if first.startswith("id"):
            return "id"
    return DEFAULT_LANGUAGE
