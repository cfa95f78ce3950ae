"""The issued permit's PDF: rendered with only the installed packages (core fonts, no font
files), read back by pypdf (the number, the official, the masked NIK), its QR code decoded
from the rendered page image as a phone would (pypdfium2 + zxing-cpp), and deterministic."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pypdf
import pypdfium2
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

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
