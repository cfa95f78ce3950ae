"""Indonesian texts and audit event labels of the complaint pages and the deadline policies
(issue 12b); :mod:`loket.web.i18n` adds them to its catalogs."""

from __future__ import annotations

INDONESIAN: dict[str, str] = {
    "Complaint": "Pengaduan",
    "File a complaint": "Ajukan pengaduan",
    "About a service of the MPP, with or without a registration number. It is forwarded to the agency within 3 working days and answered within 5.": (
        "Tentang pelayanan di MPP, dengan atau tanpa nomor registrasi. Pengaduan diteruskan "
        "ke instansi dalam 3 hari kerja dan dijawab dalam 5 hari kerja."
    ),
    "Do not write your identity number, address or phone number: the answer is given on the complaint's tracking page.": (
        "Jangan menuliskan NIK, alamat atau nomor telepon Anda: jawaban diberikan pada "
        "halaman pelacakan pengaduan."
    ),
    "Send the complaint": "Kirim pengaduan",
    "Follow a complaint": "Lacak pengaduan",
    "Complaint received": "Pengaduan diterima",
    "Complaint number": "Nomor pengaduan",
    "Write down the access code now: it is shown only once and you need it to follow your complaint.": (
        "Catat kode akses sekarang: kode hanya ditampilkan sekali dan diperlukan untuk "
        "melacak pengaduan Anda."
    ),
    "About application": "Tentang permohonan",
    "Where the complaint is": "Posisi pengaduan",
    "Answers": "Jawaban",
    "Not satisfied with the answer?": "Belum puas dengan jawaban?",
    "The complaint closes on its own 10 working days after the answer unless you reopen it.": (
        "Pengaduan ditutup otomatis 10 hari kerja setelah jawaban, kecuali Anda membukanya kembali."
    ),
    "Why": "Alasan",
    "Reopen the complaint": "Buka kembali pengaduan",
    "Your complaint is reopened: the complaints desk handles it again.": (
        "Pengaduan Anda dibuka kembali: petugas pengaduan menanganinya lagi."
    ),
    "closed": "ditutup",
    "Not a LAPOR! ticket number or an address on https://www.lapor.go.id/.": (
        "Bukan nomor tiket atau alamat LAPOR! di https://www.lapor.go.id/."
    ),
    "Not a registration number (like PBG-2026-000123).": (
        "Bukan nomor registrasi (contoh PBG-2026-000123)."
    ),
    "No application has this registration number.": (
        "Tidak ada permohonan dengan nomor registrasi ini."
    ),
    "lainnya": "lainnya",
    "Complain about this application": "Ajukan pengaduan atas permohonan ini",
    "Supervision of deemed approvals": "Pengawasan persetujuan fiktif positif",
    "Steps of your agency approved by law at their deadline (fiktif positif): check each file after the fact and close the task with a note.": (
        "Tahap di instansi Anda yang dianggap disetujui karena lewat tenggat (fiktif "
        "positif): periksa setiap berkas sesudahnya dan tutup tugas dengan catatan."
    ),
    "Deemed approved": "Dianggap disetujui",
    "Note": "Catatan",
    "Close": "Tutup",
    "Supervision task closed.": "Tugas pengawasan ditutup.",
    # outcomes of the complaint route, shown in history and the task page
    "to_dpmptsp": "teruskan ke DPMPTSP",
    "to_dpupr": "teruskan ke Dinas PUPR",
    "to_dlh": "teruskan ke Dinas Lingkungan Hidup",
    "to_dinkes": "teruskan ke Dinas Kesehatan",
    "to_disnaker": "teruskan ke Disnakertrans",
    "to_bank": "teruskan ke Bank Jateng",
    "answer": "jawab",
    "close": "tutup",
    "reopen": "buka kembali",
}

EVENT_LABELS: dict[str, tuple[str, str]] = {
    "step_deemed_approved": ("Dianggap disetujui (fiktif positif)", "Deemed approved"),
    "step_decided_on_deadline": ("Diputuskan otomatis saat tenggat", "Decided at the deadline"),
    "applicant_chose_outcome": ("Pemohon memilih", "Chosen by the applicant"),
}
