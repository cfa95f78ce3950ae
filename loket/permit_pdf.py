"""The issued permit as a PDF: one versioned template per permit type, rendered from a
:class:`~loket.case.permit.PermitDocument` alone.

fpdf2 with its core fonts (Helvetica: no font files, renders on any machine) and a QR code
of the verification URL drawn as vector modules (zxing-cpp gives the matrix). Deterministic:
the creation date is the issue date and nothing random goes in, so a retried render stores
the same bytes under the same SHA-256. A template changes only as a new version (``-v2``):
permits already issued keep the look they were signed with.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import zxingcpp
from fpdf import FPDF
from fpdf.fonts import CoreFont

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


# Text the fast line breaking below handles exactly as fpdf2's multi_cell does: printable
# Latin-1 whose only break opportunity is the plain space. Anything else (newline, tab, soft
# hyphen, NBSP, control characters) goes through multi_cell itself.
_PLAIN = frozenset(chr(c) for c in (*range(0x20, 0x7F), *range(0xA1, 0x100))) - {"\xad"}
_TOLERANCE = 1e-9  # fpdf2's FloatTolerance


def wrap(
    text: str, widths: Mapping[str, int], size_pt: float, k: float, max_width: float
) -> list[str] | None:
    """The lines fpdf2's multi_cell (word wrap) breaks ``text`` into, or None when the
    text is not plain (see ``_PLAIN``) or a line would be empty: the caller then asks
    multi_cell itself.

    multi_cell re-measures the whole line for every character it adds (quadratic: two thirds
    of a render's CPU); this keeps a running sum of the font's character widths instead. The
    float arithmetic and comparison are fpdf2's own, so the breaks fall on the same
    characters (tests/unit/test_permit_pdf.py compares the bytes).
    """
    if not _PLAIN.issuperset(text):
        return None
    if not text:
        return [""]

    def width(units: int) -> float:
        return units * size_pt * 0.001 / k  # fpdf2's CoreFont.get_text_width, / k

    lines: list[str] = []
    start = at = 0
    while at < len(text):
        units, space, char = 0, -1, ""
        while at < len(text):
            char = text[at]
            if width(units) + width(widths[char]) - max_width > _TOLERANCE:
                break
            if char == " ":
                space = at
            units += widths[char]
            at += 1
        else:
            lines.append(text[start:])
            break
        if char == " ":  # the space that overflows ends the line and is dropped
            lines.append(text[start:at])
            at += 1
        elif space >= 0:  # back to the last space, dropped as well
            lines.append(text[start:space])
            at = space + 1
        elif at > start:  # one word longer than the line: cut it where it overflows
            lines.append(text[start:at])
        else:  # not even one character fits: multi_cell raises
            return None
        start = at
    return lines if all(lines) else None


class _Pdf(FPDF):
    def wrapped(self, w: float, h: float, text: str, align: str = "L") -> None:
        """``multi_cell(w, h, text, align, new_x="LMARGIN", new_y="NEXT")``, drawn as one
        ``cell`` per line (the same content stream) when :func:`wrap` can break it."""
        width = w or self.w - self.r_margin - self.x
        font = self.current_font
        lines = None
        if isinstance(font, CoreFont):
            margin = width - self.c_margin - self.c_margin
            lines = wrap(text, font.cw, self.font_size_pt, self.k, margin)
        if lines is None:
            self.multi_cell(w, h, text, align=align, new_x="LMARGIN", new_y="NEXT")
            return
        for index, line in enumerate(lines, 1):
            last = index == len(lines)
            new_x = "LMARGIN" if last else "LEFT"
            self.cell(width, h, line, align=align, new_x=new_x, new_y="NEXT")

    def text_line(
        self, text: str, *, size: float = 10, bold: bool = False, align: str = "L"
    ) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.wrapped(0, size * 0.5, latin1(text), align=align)

    def text_line_at(self, x: float, lines: list[str], *, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 10)
        for line in lines:
            self.set_x(x)
            self.wrapped(80, 5, latin1(line))

    def pair(self, label: str, value: str) -> None:
        self.set_font("Helvetica", "", 10)
        self.cell(55, 5.5, latin1(label))
        self.cell(4, 5.5, ":")
        self.wrapped(0, 5.5, latin1(value))

    def qr(self, url: str, x: float, y: float, size: float) -> None:
        matrix = qr_matrix(url)
        module = size / len(matrix)
        self.set_fill_color(0, 0, 0)
        # One filled path of rectangles (a run of dark modules, stacked while the rows
        # below repeat it) instead of one rect() call and fill per run and row: fewer
        # operators and a fraction of the CPU. Same modules, same vector drawing.
        k, page_h = self.k, self.h
        ops = [
            f"{(x + c0 * module) * k:.2f} {(page_h - y - r0 * module) * k:.2f} "
            f"{(c1 - c0) * module * k:.2f} {-(r1 - r0) * module * k:.2f} re"
            for r0, r1, c0, c1 in _blocks(matrix)
        ]
        self._out("\n".join([*ops, "f"]))


_DARK = bytes.maketrans(bytes(range(256)), b"\x01" + b"\x00" * 255)  # pixel 0 is a dark module


def qr_matrix(text: str) -> list[bytes]:
    """The QR code of ``text`` (error correction M, the smallest version that holds it) as
    rows of modules, 1 dark and 0 light, no quiet zone.

    zxing-cpp encodes in C++ in about 0.1 ms; segno, pure Python, took 4 ms of the
    render's 6.4, most of it scoring the eight masks (bench/README.md, session 4)."""
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = symbol.to_image(scale=1, add_quiet_zones=False)  # one byte a module, 0 is dark
    width = image.shape[1]
    # The stub does not declare the buffer protocol that Image has.
    pixels = memoryview(image).tobytes()  # type: ignore[arg-type]
    return [pixels[at : at + width].translate(_DARK) for at in range(0, len(pixels), width)]


def _blocks(matrix: Sequence[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """The dark modules as rectangles (first row, row after, first column, column after):
    each horizontal run of dark modules, extended down while the next rows have the same
    run. Every dark module is in exactly one rectangle."""
    blocks: list[tuple[int, int, int, int]] = []
    open_runs: dict[tuple[int, int], int] = {}  # run -> the row its rectangle started
    for r, row in enumerate([*matrix, []]):
        runs = set()
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            runs.add((start, c))
        for run in sorted(set(open_runs) - runs):
            blocks.append((open_runs.pop(run), r, *run))
        for run in runs - set(open_runs):
            open_runs[run] = r
    return sorted(blocks)


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
