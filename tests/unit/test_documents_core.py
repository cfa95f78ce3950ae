"""Documents in the pure parts (10A): slots and their rules from the definition, the
definition's validation, content sniffing, the streamed multipart parser (any chunking
gives the same parts), and the case core's upload and decision rules."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loket.calendar import calendar_for
from loket.calendar_data import covered_years, load_calendar
from loket.case import documents
from loket.case.core import Case
from loket.case.document_models import FileRef, VerdictInput
from loket.case.messages import Actor, DecisionRequest, ResubmitRequest
from loket.edge.errors import Invalid
from loket.edge.uploads import parts
from loket.files.sniff import media_type
from loket.refusal import RefusalCode, Refused
from loket.route.documents import MB, slots
from loket.route.form import normalize
from loket.route.loader import DefinitionErrors, load_catalog
from loket.settings import PROJECT_ROOT
from tests.support import PBG_FORM

DEFINITIONS = PROJECT_ROOT / "definitions"
CATALOG = load_catalog(DEFINITIONS)
PBG = CATALOG.permit("PBG")
CALENDAR = calendar_for(load_calendar(DEFINITIONS, *covered_years(DEFINITIONS)))
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
APPLICANT = Actor(username="applicant:x", role="applicant")
FRONT = Actor(username="rina", role="staff", counters=("dpmptsp/front_office",))
SECRETARIAT = Actor(username="budi", role="staff", counters=("dpupr/pbg_secretariat",))
PDF = FileRef(sha256="a" * 64, size=1000, media_type="application/pdf")


# --- the definition ------------------------------------------------------------------------


def test_slots_take_the_permit_rules_unless_a_document_overrides() -> None:
    data = normalize(PBG, PBG_FORM)  # 640 m², 2 floors: environmental document, no structure
    found = {s.id: s for s in slots(PBG, data)}
    assert list(found) == [
        "land_title",
        "identity",
        "architecture_drawings",
        "environmental_document",
    ]
    assert found["identity"].accept == ("pdf", "jpeg", "png")
    assert found["identity"].max_bytes == 10 * MB
    assert found["architecture_drawings"].accept == ("pdf",)
    assert found["architecture_drawings"].max_bytes == 50 * MB
    tall = {s.id for s in slots(PBG, normalize(PBG, {**PBG_FORM, "floors": 3}))}
    assert "structure_calculation" in tall


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment"),
    [
        (
            "accept: [pdf], max_size_mb: 50}",
            "accept: [pdf, docx], max_size_mb: 50}",
            "documents[2].accept[1]",
            "'pdf', 'jpeg' or 'png'",
        ),
        (
            "accept: [pdf], max_size_mb: 50}",
            "accept: [pdf], max_size_mb: 100000}",
            "documents[2].max_size_mb",
            "less than or equal to 2048",
        ),
        (
            "document_rules: {accept: [pdf, jpeg, png], max_size_mb: 10}",
            "document_rules: {accept: [pdf], max_size_mb: 0}",
            "document_rules.max_size_mb",
            "greater than or equal to 1",
        ),
    ],
)
def test_bad_document_rules_name_file_and_path(
    tmp_path: Path, old: str, new: str, path: str, fragment: str
) -> None:
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, target)
    pbg = target / "permits" / "pbg.yaml"
    text = pbg.read_text()
    assert old in text
    pbg.write_text(text.replace(old, new))
    with pytest.raises(DefinitionErrors) as refused:
        load_catalog(target)
    errors = [(e.file, e.path, e.message) for e in refused.value.errors]
    assert any(f.endswith("pbg.yaml") and p == path and fragment in m for f, p, m in errors), errors


# --- content sniffing and the streamed parser ------------------------------------------------


@given(st.binary(max_size=64))
def test_sniffing_reads_only_the_first_bytes(tail: bytes) -> None:
    assert media_type(b"%PDF-" + tail) == "application/pdf"
    assert media_type(b"\x89PNG\r\n\x1a\n" + tail) == "image/png"
    assert media_type(b"\xff\xd8\xff" + tail) == "image/jpeg"
    assert media_type(b"PK\x03\x04" + tail) == "application/octet-stream"  # a .docx


def _body(boundary: str, fields: dict[str, str], content: bytes) -> bytes:
    out = b""
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return out + content + f"\r\n--{boundary}--\r\n".encode()


@settings(max_examples=80, deadline=None)
@given(
    content=st.binary(max_size=5000),
    note=st.text(alphabet="abc xyz", max_size=40),
    cuts=st.lists(st.integers(1, 700), max_size=30),
)
async def test_any_chunking_gives_the_same_parts(
    content: bytes, note: str, cuts: list[int]
) -> None:
    boundary = "b0undary"
    body = _body(boundary, {"note": note, "csrf_token": "t"}, content)

    async def chunks() -> Any:
        at = 0
        for cut in cuts:
            yield body[at : at + cut]
            at += cut
        yield body[at:]

    seen: dict[str, Any] = {}
    async for part in parts(chunks(), f"multipart/form-data; boundary={boundary}"):
        if part.filename is None:
            seen[part.name] = await part.text()
        else:
            seen[part.name] = b"".join([c async for c in part.chunks()])
    assert seen == {"note": note, "csrf_token": "t", "file": content}


async def test_a_malformed_body_is_a_client_error() -> None:
    async def chunks() -> Any:
        yield b"--x\r\nno headers here at all" + b"\xff" * 10_000

    with pytest.raises(Invalid):
        async for part in parts(chunks(), "multipart/form-data; boundary=x"):
            await part.drain()
    with pytest.raises(Invalid):
        async for _ in parts(chunks(), "application/json"):
            pass


# --- the case core ---------------------------------------------------------------------------


def _case() -> tuple[Case, Any]:
    case = Case(PBG, CALENDAR)
    started = case.start("PBG-2026-000001", normalize(PBG, PBG_FORM), APPLICANT, START)
    return case, started.state


def _code(call: Any) -> RefusalCode:
    with pytest.raises(Refused) as refused:
        call()
    return refused.value.code


def _attach(case: Case, state: Any, slot: str, actor: Actor, file: FileRef = PDF) -> Any:
    request = documents.AttachRequest(slot=slot, file=file, actor=actor)
    return documents.attach(case, state, request, START + timedelta(minutes=1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["identity", "land_title", "architecture_drawings"]), max_size=12))
def test_each_upload_is_the_next_version_and_audited_with_references(uploads: list[str]) -> None:
    case, state = _case()
    for slot in uploads:
        change = _attach(case, state, slot, APPLICANT)
        assert change.batch is not None
        (entry,) = change.batch.audit
        assert entry.event == "document_uploaded"
        assert set(entry.details) == {"slot", "version", "sha256", "size", "media_type"}
        state = change.state
    for slot in set(uploads):
        versions = [v.version for v in state.documents.versions if v.slot == slot]
        assert versions == list(range(1, uploads.count(slot) + 1))


def test_who_may_upload_when() -> None:
    case, state = _case()
    assert (
        _code(lambda: _attach(case, state, "passport", APPLICANT)) is RefusalCode.UNKNOWN_DOCUMENT
    )
    assert (
        _code(lambda: _attach(case, state, "identity", SECRETARIAT)) is RefusalCode.NOT_YOUR_COUNTER
    )
    big = FileRef(sha256="b" * 64, size=10 * MB + 1, media_type="image/png")
    assert (
        _code(lambda: _attach(case, state, "identity", APPLICANT, big))
        is RefusalCode.DOCUMENT_TOO_LARGE
    )
    png = FileRef(sha256="b" * 64, size=10, media_type="image/png")
    assert (
        _code(lambda: _attach(case, state, "architecture_drawings", APPLICANT, png))
        is RefusalCode.DOCUMENT_TYPE_REFUSED
    )
    state = _attach(case, state, "identity", FRONT).state  # walk-in, at the registration counter
    now = START + timedelta(hours=1)
    state = case.decide(
        state, DecisionRequest(step_id="registration", outcome="approve", actor=FRONT), now
    ).state
    # Past submission and not returned: the applicant waits; registration staff still may.
    assert (
        _code(lambda: _attach(case, state, "identity", APPLICANT)) is RefusalCode.DOCUMENTS_LOCKED
    )
    assert _attach(case, state, "land_title", FRONT).batch is not None

    # A return at the completeness check names the items; only those may be uploaded.
    ret = DecisionRequest(step_id="completeness", outcome="return", actor=SECRETARIAT)
    assert _code(lambda: case.decide(state, ret, now)) is RefusalCode.CORRECTIONS_REQUIRED
    bad = ret.model_copy(update={"corrections": ("passport",)})
    assert _code(lambda: case.decide(state, bad, now)) is RefusalCode.UNKNOWN_DOCUMENT
    verdict = VerdictInput(slot="identity", verdict="incomplete", note="buram")
    good = ret.model_copy(update={"corrections": ("identity",), "verdicts": (verdict,)})
    change = case.decide(state, good, now)
    assert change.batch is not None
    events = {e.event: e for e in change.batch.audit}
    assert events["step_returned"].details["corrections"] == ["identity"]
    assert events["document_checked"].details == {
        "slot": "identity",
        "version": 1,
        "verdict": "incomplete",
        "note": "buram",
    }
    assert change.batch.verdicts[0].slot == "identity"
    state = change.state
    assert (
        _code(lambda: _attach(case, state, "land_title", APPLICANT))
        is RefusalCode.DOCUMENT_NOT_RETURNED
    )
    state = _attach(case, state, "identity", APPLICANT).state
    resumed = case.resubmit(state, ResubmitRequest(actor=APPLICANT, note="KTP baru"), now)
    assert resumed.batch is not None
    step_resumed = next(e for e in resumed.batch.audit if e.event == "step_resumed")
    assert step_resumed.details == {"note": "KTP baru"}
    assert resumed.state.documents.corrections == ()
    # Closed: nothing more.
    closed = case.decide(
        resumed.state,
        DecisionRequest(step_id="completeness", outcome="reject", actor=SECRETARIAT),
        now,
    ).state
    assert _code(lambda: _attach(case, closed, "identity", FRONT)) is RefusalCode.CLOSED
