"""Indonesian for the billing pages and templates (issue 11), merged into
:mod:`loket.web.i18n`; the English text is the key there too."""

from __future__ import annotations

INDONESIAN: dict[str, str] = {
    "Receipt number": "Nomor bukti bayar (SSRD)",
    # tracking: the fee's state
    "Nothing to pay": "Tidak ada yang harus dibayar",
    "The retribution is set at the assessment step, from the published formula.": (
        "Retribusi ditetapkan pada tahap penetapan, dengan rumus yang diumumkan."
    ),
    "Retribution (SKRD)": "Retribusi (SKRD)",
    "The billing code follows when the payment step opens.": (
        "Kode bayar diterbitkan saat tahap pembayaran dibuka."
    ),
    "Billing code": "Kode bayar",
    "Pay by": "Bayar paling lambat",
    "Payment status": "Status pembayaran",
    "bill open": "belum dibayar",
    "bill overdue": "lewat batas waktu bayar",
    "bill paid": "lunas",
    "bill cancelled": "dibatalkan",
    "receipt": "bukti bayar",
    "Pay the exact amount with this billing code at the bank or by QRIS; the file moves on by itself once the bank confirms.": (
        "Bayar dengan jumlah yang tepat memakai kode bayar ini di bank atau dengan QRIS; "
        "berkas berlanjut sendiri setelah bank mengonfirmasi."
    ),
    # the teller's task page
    "Receipt number (SSRD), to approve a payment by hand": (
        "Nomor bukti bayar (SSRD), untuk menyetujui pembayaran secara manual"
    ),
    # the payments page
    "Payments": "Pembayaran",
    "Reconcile a bank statement": "Rekonsiliasi rekening koran bank",
    "CSV with the columns transaction_id, billing_code, amount, paid_at (docs/payments.md).": (
        "CSV dengan kolom transaction_id, billing_code, amount, paid_at (docs/payments.md)."
    ),
    "Bank": "Bank",
    "Statement file": "Berkas rekening koran",
    "Reconcile": "Rekonsiliasi",
    "Reconciliation": "Rekonsiliasi",
    "statement rows": "baris rekening koran",
    "recorded payments": "pembayaran tercatat",
    "matched": "cocok",
    "mismatches": "selisih",
    "Mismatch": "Selisih",
    "Line": "Baris",
    "Transaction": "Transaksi",
    "Application": "Permohonan",
    "Statement": "Rekening koran",
    "Recorded": "Tercatat",
    "Detail": "Keterangan",
    "Every transaction matches.": "Semua transaksi cocok.",
    "Latest payment callbacks": "Callback pembayaran terakhir",
    "Received": "Diterima",
    "Outcome": "Hasil",
    "Amount": "Jumlah",
    "No callbacks yet.": "Belum ada callback.",
    "paid_not_recorded": "dibayar, belum tercatat",
    "recorded_not_in_statement": "tercatat, tidak ada di rekening koran",
    "amount_mismatch": "jumlah berbeda",
    "invalid_row": "baris tidak terbaca",
    "Choose the bank and the statement file.": "Pilih bank dan berkas rekening koran.",
    "The statement is not UTF-8 text.": "Rekening koran bukan teks UTF-8.",
}

EVENT_LABELS: dict[str, tuple[str, str]] = {
    "fee_billed": ("Tagihan (SKRD) diterbitkan", "Bill (SKRD) issued"),
    "payment_received": ("Pembayaran diterima", "Payment received"),
    "bill_cancelled": ("Tagihan dibatalkan", "Bill cancelled"),
}
