"""The issued permit as a PDF: one versioned template per permit type, rendered from a
:class:`~loket.case.permit.PermitDocument` alone.

fpdf2 with its core fonts (Helvetica: no font files, renders on any machine) and a QR code
of the verification URL drawn as vector modules (segno gives the matrix). Deterministic:
the creation date is the issue date and nothing random goes in, so a retried render stores
the same bytes under the same SHA-256. A template changes only as a new version (``-v2``):
permits already issued keep the look they were signed with.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import segno
from fpdf import FPDF

from loket.case.permit import PermitDocument
from loket.route.issuance import KNOWN_TEMPLATES

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
ACTING_PREFIX = {"definitive": "", "plt": "Plt. ", "plh": "Plh. "}
_PUNCTUATION = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"'})


@dataclass(frozen=True)
class Layout:
    """What differs between the permit types' documents."""

    granted: str  # the sentence before the holder
    object_heading: str
    closing: tuple[str, ...]
    regency: str = "PEMERINTAH KABUPATEN BLORA"
    place: str = "Blora"


LAYOUTS: dict[str, Layout] = {
    "pbg-v1": Layout(
        granted="Memberikan Persetujuan Bangunan Gedung kepada:",
        object_heading="Bangunan gedung",
        closing=(
            "Bangunan gedung wajib dilaksanakan sesuai dokumen rencana teknis yang disetujui.",
            "Persetujuan ini batal apabila di kemudian hari terdapat kekeliruan data.",
        ),
    ),
    "sip-v1": Layout(
        granted="Memberikan Surat Izin Praktik kepada:",
        object_heading="Praktik",
        closing=("Izin ini berlaku untuk satu tempat praktik sebagaimana tercantum.",),
    ),
    "ptka-v1": Layout(
        granted="Memberikan notifikasi perpanjangan penggunaan tenaga kerja asing kepada:",
        object_heading="Tenaga kerja asing",
        closing=("Pemberi kerja wajib melaporkan penggunaan TKA sesuai ketentuan.",),
    ),
}
assert set(LAYOUTS) == KNOWN_TEMPLATES, "every template a definition may name has a layout"


def long_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def latin1(text: str) -> str:
    """Text the core fonts can print: punctuation to ASCII, accents decomposed, anything
    else as '?'. The same text always gives the same output."""
    out = []
    for char in text.translate(_PUNCTUATION):
        if ord(char) < 256:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


class _Pdf(FPDF):
    def text_line(
        self, text: str, *, size: float = 10, bold: bool = False, align: str = "L"
    ) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, latin1(text), align=align, new_x="LMARGIN", new_y="NEXT")

    def text_line_at(self, x: float, lines: list[str], *, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 10)
        for line in lines:
            self.set_x(x)
            self.multi_cell(80, 5, latin1(line), align="L", new_x="LMARGIN", new_y="NEXT")

    def pair(self, label: str, value: str) -> None:
        self.set_font("Helvetica", "", 10)
        self.cell(55, 5.5, latin1(label))
        self.cell(4, 5.5, ":")
        self.multi_cell(0, 5.5, latin1(value), new_x="LMARGIN", new_y="NEXT")

    def qr(self, url: str, x: float, y: float, size: float) -> None:
        code = segno.make(url, error="m", micro=False)
        rows = [list(row) for row in code.matrix_iter(scale=1, border=0)]
        module = size / len(rows)
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(rows):
            c = 0
            while c < len(row):  # one rectangle per run of dark modules: a smaller file
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                self.rect(x + start * module, y + r * module, (c - start) * module, module, "F")


def render(document: PermitDocument) -> bytes:
    """The permit's PDF; the same document gives the same bytes."""
    layout = LAYOUTS[document.template]
    pdf = _Pdf(format="A4")
    pdf.set_creation_date(datetime.combine(document.issued_on, time(0), tzinfo=UTC))
    pdf.set_title(latin1(f"{document.title} {document.number}"))
    pdf.set_author(latin1(document.issuing_office))
    pdf.set_subject(latin1(document.permit_name))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.text_line(layout.regency, size=13, bold=True, align="C")
    pdf.text_line(document.issuing_office.upper(), size=11, bold=True, align="C")
    pdf.line(20, pdf.get_y() + 2, 190, pdf.get_y() + 2)
    pdf.ln(6)
    pdf.text_line(document.title.upper(), size=13, bold=True, align="C")
    pdf.text_line(f"Nomor: {document.number}", size=11, align="C")
    pdf.ln(4)
    pdf.text_line("Berdasarkan:", bold=True)
    for i, basis in enumerate(document.legal_basis, 1):
        pdf.text_line(f"{i}. {basis}")
    pdf.ln(3)
    pdf.text_line(layout.granted, bold=True)
    pdf.pair("Nama", document.holder_name)
    if document.holder_id_masked:
        pdf.pair("NIK", document.holder_id_masked)
    pdf.pair("Nomor registrasi permohonan", document.registration_number)
    pdf.ln(2)
    pdf.text_line(f"{layout.object_heading}:", bold=True)
    for label, value in document.object:
        pdf.pair(label, value)
    pdf.ln(2)
    pdf.pair("Tanggal terbit", long_date(document.issued_on))
    validity = (
        long_date(document.valid_until)
        if document.valid_until
        else "tidak dibatasi waktu, selama tidak ada perubahan"
    )
    pdf.pair("Berlaku sampai", validity)
    pdf.ln(3)
    for sentence in layout.closing:
        pdf.text_line(sentence, size=9)
    pdf.ln(6)
    top = pdf.get_y()
    signer = document.signer
    pdf.text_line_at(
        110,
        [
            f"Ditetapkan di {layout.place}",
            f"pada tanggal {long_date(document.issued_on)}",
            f"{ACTING_PREFIX[signer.acting]}{signer.title}",
        ],
    )
    pdf.ln(14)
    pdf.text_line_at(110, [signer.name], bold=True)
    pdf.text_line_at(110, [f"NIP. {signer.nip}"])
    pdf.qr(document.verify_url, 20, top, 34)
    pdf.set_xy(20, max(pdf.get_y(), top + 36) + 4)
    pdf.text_line(f"Verifikasi keaslian: {document.verify_url}", size=8)
    pdf.text_line(
        "Dokumen ini diterbitkan secara elektronik; pindai kode QR atau buka alamat di atas "
        "untuk memeriksa keabsahannya.",
        size=8,
    )
    return bytes(pdf.output())
