"""The issued permit's PDF: rendered with only the installed packages (core fonts, no font
files), read back by pypdf (the number, the official, the masked NIK), its QR code decoded
from the rendered page image as a phone would (pypdfium2 + zxing-cpp), and deterministic."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, date, datetime

import PIL.Image
import pypdf
import pypdfium2
import zxingcpp
from fpdf.errors import FPDFException
from fpdf.fonts import CoreFont
from hypothesis import given, settings
from hypothesis import strategies as st

from loket import permit_pdf
from loket.case.permit import PermitDocument, Signer
from loket.permit_pdf import LAYOUTS, latin1, render
from loket.route.issuance import KNOWN_TEMPLATES

URL = "https://loket.blorakab.go.id/verify/503/0001/PBG/DPMPTSP/2026"


def document(**changes: object) -> PermitDocument:
    base = PermitDocument(
        number="503/0001/PBG/DPMPTSP/2026",
        registration_number="PBG-2026-000001",
        permit_type="PBG",
        permit_name="Persetujuan Bangunan Gedung",
        title="Persetujuan Bangunan Gedung (PBG)",
        template="pbg-v1",
        issued_on=date(2026, 12, 1),
        valid_until=None,
        issuing_office="Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Blora",
        holder_name="Siti Rahayu",
        holder_id_masked="3316********0001",
        object=(("Alamat lokasi bangunan", "Jl. Pemuda 12, Blora"), ("Jumlah lantai", "2")),
        legal_basis=("PP 16/2021 tentang Peraturan Pelaksanaan UU 28/2002",),
        signer=Signer(
            position="kepala_dpmptsp",
            title="Kepala Dinas Penanaman Modal dan PTSP Kabupaten Blora",
            name="Dr. Sri Wahyuningsih, S.T., M.M.",
            nip="197205141998032007",
            acting="definitive",
        ),
        verify_url=URL,
    )
    return base.model_copy(update=changes)


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def qr_texts(pdf: bytes) -> list[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=2).to_pil()
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def test_the_pdf_reads_back_with_the_number_the_official_and_the_masked_nik() -> None:
    pdf = render(document())
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Nomor: 503/0001/PBG/DPMPTSP/2026" in text
    assert "Dr. Sri Wahyuningsih, S.T., M.M." in text and "NIP. 197205141998032007" in text
    assert "3316********0001" in text
    assert "Siti Rahayu" in text and "Jl. Pemuda 12, Blora" in text
    assert "1 Desember 2026" in text
    assert "PP 16/2021" in text


def test_the_qr_code_on_the_page_opens_the_verification_url() -> None:
    assert qr_texts(render(document())) == [URL]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=120))
def test_the_qr_matrix_reads_back_as_its_text(path: str) -> None:
    url = f"https://loket.blorakab.go.id/verify/{path}"
    matrix = permit_pdf.qr_matrix(url)
    assert {len(row) for row in matrix} == {len(matrix)}  # square
    assert set(b"".join(matrix)) == {0, 1}
    quiet, scale = 4, 3  # light border of four modules, as a printed code has
    side = (len(matrix) + 2 * quiet) * scale
    image = PIL.Image.new("L", (side, side), 255)
    for r, row in enumerate(matrix):
        for c, cell in enumerate(row):
            if cell:
                x, y = (c + quiet) * scale, (r + quiet) * scale
                image.paste(0, (x, y, x + scale, y + scale))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in found] == [url]
    assert found[0].ec_level == "M"


def test_the_same_inputs_give_the_same_bytes_and_others_do_not() -> None:
    first, again = render(document()), render(document())
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest()
    other = render(document(number="503/0002/PBG/DPMPTSP/2026"))
    assert hashlib.sha256(other).hexdigest() != hashlib.sha256(first).hexdigest()


def test_an_acting_official_signs_as_plt_or_plh_and_validity_is_printed() -> None:
    acting = document().signer.model_copy(update={"acting": "plh", "name": "Bambang Setiawan"})
    text = text_of(
        render(document(signer=acting, template="sip-v1", valid_until=date(2031, 11, 30)))
    )
    assert "Plh. Kepala Dinas" in text and "Bambang Setiawan" in text
    assert "Berlaku sampai : 30 November 2031" in text


def test_every_template_a_definition_may_name_renders() -> None:
    assert set(LAYOUTS) == KNOWN_TEMPLATES
    for template in sorted(KNOWN_TEMPLATES):
        assert "503/0001/PBG/DPMPTSP/2026" in text_of(render(document(template=template)))


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_any_name_renders_and_renders_the_same(name: str) -> None:
    doc = document(holder_name=name)
    assert render(doc) == render(doc)
    assert latin1(name) == latin1(name) and all(ord(c) < 256 for c in latin1(name))


# --- issue 13: the fast line breaking and the one-path QR code must not change the page ---

_PLAIN_CHARS = "".join(sorted(permit_pdf._PLAIN))
# Plain text plus what makes multi_cell do more (newline, tab, soft hyphen, NBSP, CR).
_ANY_CHARS = _PLAIN_CHARS + "\n\t\r\xad\xa0\x0c"


def _page(draw: Callable[[permit_pdf._Pdf], object]) -> bytes:
    pdf = permit_pdf._Pdf(format="A4")
    pdf.set_creation_date(datetime(2026, 12, 1, tzinfo=UTC))
    pdf.set_margins(20, 18, 20)
    pdf.add_page()
    try:
        draw(pdf)
    except FPDFException as exc:
        return f"raised {exc}".encode()
    pdf.cell(10, 5, "after")  # the position each leaves the cursor at is drawn as well
    return bytes(pdf.output())


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(st.sampled_from(_ANY_CHARS + "      "), max_size=300)
    | st.text(st.sampled_from(_PLAIN_CHARS + "    "), max_size=300),
    width=st.sampled_from([0, 80, 1.5, 3]) | st.floats(5, 170),
    x=st.sampled_from([20, 110]),
    size=st.sampled_from([8, 9, 10, 11, 13]),
    bold=st.booleans(),
    align=st.sampled_from(["L", "C"]),
)
def test_wrapped_text_gives_the_same_bytes_as_multi_cell(
    text: str, width: float, x: float, size: float, bold: bool, align: str
) -> None:
    def with_multi_cell(pdf: permit_pdf._Pdf) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.set_x(x)
        pdf.multi_cell(width, size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")

    def with_wrapped(pdf: permit_pdf._Pdf) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        pdf.set_x(x)
        pdf.wrapped(width, size * 0.5, text, align=align)

    assert _page(with_wrapped) == _page(with_multi_cell)


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.text(st.sampled_from(_PLAIN_CHARS.replace(" ", "")), min_size=1)),
    # From 8 mm: the widest glyph (1000 units at 13 pt, 4.6 mm) and both cell margins fit,
    # so a line always holds one character (narrower, multi_cell raises: the test above).
    width=st.floats(8, 170),
    size=st.sampled_from([8, 10, 13]),
    bold=st.booleans(),
)
def test_plain_text_takes_the_fast_path_and_breaks_where_multi_cell_does(
    words: list[str], width: float, size: float, bold: bool
) -> None:
    """The bytes above would be equal trivially if everything fell back to multi_cell."""
    text = " ".join(words)
    pdf = permit_pdf._Pdf(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B" if bold else "", size)
    assert isinstance(pdf.current_font, CoreFont)
    max_width = width - pdf.c_margin - pdf.c_margin
    lines = permit_pdf.wrap(text, pdf.current_font.cw, pdf.font_size_pt, pdf.k, max_width)
    assert lines == pdf.multi_cell(width, 5, text, dry_run=True, output="LINES")


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.lists(st.lists(st.integers(0, 1), min_size=n, max_size=n), max_size=12)
    )
)
def test_qr_blocks_cover_exactly_the_dark_modules(matrix: list[list[int]]) -> None:
    covered: list[tuple[int, int]] = []
    for r0, r1, c0, c1 in permit_pdf._blocks(matrix):
        covered += [(r, c) for r in range(r0, r1) for c in range(c0, c1)]
    dark = [(r, c) for r, row in enumerate(matrix) for c, cell in enumerate(row) if cell]
    assert sorted(covered) == sorted(dark)  # each dark module once, no light one


def test_the_qr_code_is_one_filled_path() -> None:
    page = pypdf.PdfReader(io.BytesIO(render(document()))).pages[0]
    ops = page.get_contents().get_data().decode("latin-1").split("\n")
    rects = [op for op in ops if op.endswith(" re")]
    assert len(rects) > 20 and ops.count("f") == 1 and not any(o.endswith("re f") for o in ops)
