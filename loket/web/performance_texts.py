"""Indonesian texts of the performance and survey pages (merged into ``i18n.INDONESIAN``).

Kept apart so that this feature's words do not crowd the shared catalog; the element names
follow Permenpan RB 14/2017 (U1-U9).
"""

from __future__ import annotations

INDONESIAN: dict[str, str] = {
    "Performance": "Kinerja",
    "Service performance": "Kinerja pelayanan",
    "How long permits take, how many finish on time against the published service time, what was billed and collected, and how applicants rate the service (SKM).": (
        "Berapa lama perizinan diselesaikan, berapa yang tepat waktu menurut standar waktu "
        "pelayanan yang diumumkan, berapa retribusi ditagih dan diterima, dan bagaimana "
        "pemohon menilai pelayanan (SKM)."
    ),
    "Working days count from submission to decision; time the file waited for the applicant (corrections, payment) is not counted. Figures over fewer than 5 applications are withheld and shown as": (
        "Hari kerja dihitung dari pendaftaran sampai keputusan; waktu berkas menunggu pemohon "
        "(perbaikan, pembayaran) tidak dihitung. Angka dari kurang dari 5 permohonan tidak "
        "ditampilkan dan ditandai"
    ),
    "withheld: fewer than 5 applications": "tidak ditampilkan: kurang dari 5 permohonan",
    "Year": "Tahun",
    "Month": "Bulan",
    "Service": "Layanan",
    "Per service": "Per layanan",
    "Per service and month": "Per layanan dan bulan",
    "On time per service": "Tepat waktu per layanan",
    "On time per month": "Tepat waktu per bulan",
    "Received": "Diterima",
    "Returns": "Dikembalikan",
    "Billed": "Ditagih",
    "Collected": "Diterima kas",
    "Free": "Gratis",
    "Waived": "Dibebaskan",
    "Median and p90: working days from submission to decision.": (
        "Median dan p90: hari kerja dari pendaftaran sampai keputusan."
    ),
    "Working time held per counter": "Waktu kerja per loket",
    "Steps closed": "Tahap selesai",
    "Community satisfaction index (SKM)": "Indeks Kepuasan Masyarakat (SKM)",
    "IKM: the mean of the nine element averages x 25 (Permenpan RB 14/2017). Grades: A 88,31-100; B 76,61-88,30; C 65,00-76,60; D 25,00-64,99.": (
        "IKM: rata-rata dari nilai rata-rata sembilan unsur x 25 (Permenpan RB 14/2017). "
        "Mutu: A 88,31-100; B 76,61-88,30; C 65,00-76,60; D 25,00-64,99."
    ),
    "No survey response in this period.": "Belum ada jawaban survei pada periode ini.",
    "Respondents": "Responden",
    "Grade": "Mutu pelayanan",
    "Open data": "Data terbuka",
    "The same figures as open data (CC BY 4.0), catalogued for Satu Data portals in": (
        "Angka yang sama sebagai data terbuka (CC BY 4.0), dengan katalog untuk portal Satu Data di"
    ),
    # the survey
    "Satisfaction survey": "Survei kepuasan masyarakat",
    "How was our service?": "Bagaimana pelayanan kami?",
    "Rate nine elements of the service in one minute (SKM). Your answer is anonymous and counts once per application.": (
        "Nilai sembilan unsur pelayanan dalam satu menit (SKM). Jawaban Anda anonim dan "
        "dihitung sekali per permohonan."
    ),
    "Fill in the survey": "Isi survei",
    "Rate each element of the service from 1 (poor) to 4 (very good). The answer is anonymous: it is kept with the service and the month only.": (
        "Nilai setiap unsur pelayanan dari 1 (tidak baik) sampai 4 (sangat baik). Jawaban "
        "anonim: hanya disimpan bersama jenis layanan dan bulannya."
    ),
    "Send the answer": "Kirim jawaban",
    "Thank you: your answer is recorded.": "Terima kasih: jawaban Anda tercatat.",
    "It counts in the published index of this service for": (
        "Jawaban dihitung dalam indeks layanan ini yang diumumkan untuk"
    ),
    "This application's survey has been answered already. Thank you.": (
        "Survei untuk permohonan ini sudah diisi. Terima kasih."
    ),
    "The survey opens when the application is finished.": (
        "Survei dibuka setelah permohonan selesai."
    ),
    "Fee/tariff": "Biaya/tarif",
    "Service product": "Produk layanan",
    "Staff competence": "Kompetensi pelaksana",
    "Staff conduct": "Perilaku pelaksana",
    "Handling of complaints": "Penanganan pengaduan, saran dan masukan",
    "Facilities": "Sarana dan prasarana",
    "Poor": "Tidak baik",
    "Fair": "Kurang baik",
    "Good": "Baik",
    "Very good": "Sangat baik",
}
