"""Readable pages without a server (12c): every audit event type the case core writes has a
renderer and labels in both languages, numbers read back as the value, labels parse, and
the applicant's history holds a staff note once."""

from __future__ import annotations

import ast
import logging
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.case.events import PAUSE_REASONS
from loket.label import Label
from loket.route.loader import load_catalog
from loket.settings import PROJECT_ROOT
from loket.store.queries import AuditRow, public_history
from loket.web import audit_text, i18n
from loket.web.format import number
from loket.web.readable import Readable

CASE = PROJECT_ROOT / "loket" / "case"
CATALOG = load_catalog(PROJECT_ROOT / "definitions")
WIB = timezone(timedelta(hours=7), "WIB")


def _audited_event_types() -> set[str]:
    """Every event type the case core can write: ``.audit("x", ...)`` literals, the route
    events whose handler audits ``e.kind`` (EVENTS keys), and the literals passed to a
    function that audits its own parameter (``_set_claim(..., "task_claimed", ...)``)."""
    found: set[str] = set()
    kind_handlers: set[str] = set()
    param_audits: dict[str, int] = {}  # function -> index of the parameter it audits
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in CASE.glob("*.py")}
    constants = {
        target.id: node.value.value
        for tree in trees.values()
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for tree in trees.values():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            params = [a.arg for a in fn.args.args]
            for node in ast.walk(fn):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "audit"
                    and node.args
                ):
                    continue
                first = node.args[0]
                names = _constant_names(first, constants)
                if names:
                    found.update(names)
                elif isinstance(first, ast.Attribute) and first.attr == "kind":
                    kind_handlers.add(fn.name)
                elif isinstance(first, ast.Name) and first.id in params:
                    param_audits[fn.name] = params.index(first.id)
                else:
                    raise AssertionError(f"{fn.name}: audit event name not traceable")
    for tree in trees.values():
        for node in ast.walk(tree):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            if any(isinstance(t, ast.Name) and t.id == "EVENTS" for t in targets):
                assert isinstance(node, ast.Assign | ast.AnnAssign)
                assert isinstance(node.value, ast.Dict)
                for key, value in zip(node.value.keys, node.value.values, strict=True):
                    if isinstance(value, ast.Name) and value.id in kind_handlers:
                        assert isinstance(key, ast.Constant)
                        found.add(str(key.value))
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in param_audits:
                    # a method: the call's arguments start after self
                    arg = node.args[param_audits[name] - 1]
                    assert isinstance(arg, ast.Constant), f"{name}: event name not a literal"
                    found.add(str(arg.value))
    return found


def _constant_names(node: ast.expr, constants: dict[str, str]) -> set[str]:
    """The event names an ``audit`` argument can take: a literal, a module-level string
    constant, or either branch of a conditional of those; empty when it is neither."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id in constants:
        return {constants[node.id]}
    if isinstance(node, ast.IfExp):
        body, orelse = (
            _constant_names(node.body, constants),
            _constant_names(node.orelse, constants),
        )
        return body | orelse if body and orelse else set()
    return set()


EVENT_TYPES = sorted(_audited_event_types())

# Details as the case core writes them, every key any renderer reads.
SAMPLE_DETAILS = {
    "permit_type": "PBG",
    "route_version": 1,
    "service_time": "28d",
    "service_time_rule": "standard",
    "service_due_at": "2026-12-10T09:00:00+00:00",
    "calendar_version": "id-2026.1",
    "fields": ["site_address", "building_area_m2"],
    "outcome": "return",
    "target": "applicant",
    "note": "Lampirkan KTP yang jelas",
    "step_id": "tpa_review",
    "rule": 0,
    "action": "escalate",
    "to": "agency_head",
    "recipient": "head:dpupr",
    "level": 2,
    "scheduled_at": "2026-12-10T09:00:00+00:00",
    "due_at": "2026-12-11T09:00:00+00:00",
    "claimed_by": "rina",
    "from": None,
    "reason": PAUSE_REASONS["returned"],
    "paused_from": "2026-12-02T03:00:00+00:00",
    "paused_working_time_s": 5400,
    "total": 4_536_000,
    "currency": "IDR",
    "extra": "2d",
    "due_before": "2026-12-10T09:00:00+00:00",
    "due_after": "2026-12-12T09:00:00+00:00",
    "calendar_before": "id-2026.1",
    "calendar_after": "id-2026.2",
    "steps": {"tpa_review": {"before": "2026-12-10T09:00:00+00:00", "after": None}},
    "parallel_step": "technical_reviews",
}


def test_the_scan_finds_the_case_cores_event_types() -> None:
    # The scan itself must see through e.kind and _set_claim, or it proves nothing.
    assert {"branches_forked", "task_claimed", "task_reassigned", "step_escalated"} <= set(
        EVENT_TYPES
    )
    assert "permit_finished" not in EVENT_TYPES  # a route event, audited as finished


@pytest.mark.parametrize("event", EVENT_TYPES)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_audit_event_type_has_a_renderer_and_words(
    event: str, lang: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert event in audit_text.RENDERERS, f"no renderer for {event}"
    assert event in i18n.EVENT_LABELS, f"no label for {event}"
    r = Readable(CATALOG, lang, WIB)
    i18n.warn_missing.cache_clear()
    with caplog.at_level(logging.WARNING, logger="loket.web"):
        label = r.event(event)
        shown = r.details(event, SAMPLE_DETAILS)
    assert not shown.fallback
    assert not caplog.records, [rec.getMessage() for rec in caplog.records]
    assert label and label != event
    for line in shown.lines:
        assert "['" not in line.value and "{'" not in line.value and "None" not in line.value
        assert "_" not in line.label  # a label, never a details key


def test_an_unknown_event_type_falls_back_visibly(caplog: pytest.LogCaptureFixture) -> None:
    r = Readable(CATALOG, "id", WIB)
    with caplog.at_level(logging.WARNING, logger="loket.web"):
        shown = r.details("permit_teleported", {"where": ["mars"], "speed": 25.0})
    assert shown.fallback
    assert [(x.label, x.value) for x in shown.lines] == [("where", "mars"), ("speed", "25")]
    assert any("permit_teleported" in rec.getMessage() for rec in caplog.records)


def test_details_read_as_words() -> None:
    r = Readable(CATALOG, "id", WIB)
    lines = {x.label: x.value for x in r.details("application_corrected", SAMPLE_DETAILS).lines}
    assert lines == {"Isian yang diperbaiki": "Alamat lokasi bangunan, Luas lantai total (m²)"}
    decided = r.details("step_decided", SAMPLE_DETAILS).lines
    assert [(x.label, x.value) for x in decided] == [
        ("Hasil", "dikembalikan ke pemohon untuk perbaikan"),
        ("Diteruskan ke", "pemohon"),
    ]  # the note of a return is on step_returned: never twice
    returned = r.details("step_returned", SAMPLE_DETAILS).lines
    assert [x.value for x in returned if x.note] == ["Lampirkan KTP yang jelas"]
    escalated = {x.label: x.value for x in r.details("step_escalated", SAMPLE_DETAILS).lines}
    assert escalated["Penerima"] == "Kepala Dinas PUPR"
    assert escalated["Tindakan"] == "eskalasi"
    fees = {x.label: x.value for x in r.details("fees_assessed", SAMPLE_DETAILS).lines}
    assert fees == {"Total": "Rp 4.536.000"}
    resumed = {x.label: x.value for x in r.details("clock_resumed", SAMPLE_DETAILS).lines}
    assert resumed == {
        "Berhenti sejak": "02-12-2026 10:00 WIB",
        "Waktu kerja berhenti": "1:30 jam kerja",
    }
    extended = {x.label: x.value for x in r.details("deadline_extended", SAMPLE_DETAILS).lines}
    assert extended["Tambahan waktu kerja"] == "2 hari kerja"
    en = Readable(CATALOG, "en", WIB)
    lines = {x.label: x.value for x in en.details("application_corrected", SAMPLE_DETAILS).lines}
    assert lines == {"Fields corrected": "Address of the building site, Total floor area (m²)"}


def _row(seq: int, event: str, details: dict[str, object], role: str = "staff") -> AuditRow:
    return AuditRow(
        seq=seq,
        event=event,
        at=datetime(2026, 12, 2, 3, seq, tzinfo=UTC),
        actor="rina",
        actor_role=role,
        step_id="registration",
        attempt=1,
        from_state=None,
        to_state=None,
        details=details,
        prev_hash="",
        hash="",
    )


def test_the_applicant_reads_a_return_note_once() -> None:
    note = "KTP buram"
    events = [
        _row(1, "step_decided", {"outcome": "return", "target": "applicant", "note": note}),
        _row(2, "step_returned", {"note": note}),
        _row(3, "clock_paused", {"reason": PAUSE_REASONS["returned"]}),
        _row(4, "task_claimed", {"claimed_by": "rina"}),
    ]
    shown = public_history(events, CATALOG.permit("PBG"))
    assert [e.event for e in shown] == ["step_decided", "step_returned", "clock_paused"]
    assert [e.note for e in shown] == [None, note, None]
    assert [e.details for e in shown] == [
        {"outcome": "return"},
        {"note": note},
        {"reason": PAUSE_REASONS["returned"]},
    ]
    r = Readable(CATALOG, "id", WIB)
    notes = [x.value for e in shown for x in r.details(e.event, e.details).lines if x.note]
    assert notes == [note]


@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(10**15), max_value=10**15)
)
def test_numbers_are_indonesian_and_read_back_as_the_value(value: float) -> None:
    text = number(value)
    assert "e" not in text.lower()
    if float(value).is_integer():
        assert "," not in text
    # Indonesian: '.' groups thousands, ',' marks the decimals.
    whole, _, decimals = text.partition(",")
    groups = whole.lstrip("-").split(".")
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
    back = Decimal(whole.replace(".", "") + ("." + decimals if decimals else ""))
    if float(value).is_integer():
        assert back == int(value)
    else:
        assert float(back) == value  # the shortest decimal of that double, exactly


def test_known_numbers() -> None:
    assert [number(v) for v in (4500000, 0.035, 25.0, 12.5, 0.15)] == [
        "4.500.000",
        "0,035",
        "25",
        "12,5",
        "0,15",
    ]


def test_a_label_is_a_plain_string_or_both_languages() -> None:
    assert Label.model_validate("rumah MBR").text("en") == "rumah MBR"
    both = Label.model_validate({"id": "rumah MBR", "en": "low-income house"})
    assert (both.text("id"), both.text("en")) == ("rumah MBR", "low-income house")
    with pytest.raises(ValueError):
        Label.model_validate({"id": ""})


def test_choice_and_field_names(tmp_path: Path) -> None:
    r = Readable(CATALOG, "id", WIB)
    assert r.value("PBG", "building_use", "sosial_budaya") == "Sosial dan budaya"
    assert r.value("PBG", "building_area_m2", 25.0) == "25"
    assert r.value("PBG", "is_mbr", False) == "tidak"
    assert r.counter("dpupr", "tpa") == "DPUPR · Tim Profesi Ahli / Tim Penilai Teknis"
    assert Readable(CATALOG, "en", WIB).value("SIP", "profession", "dokter_gigi") == "Dentist"
    # Step ids repeat across permit types: an application's trail names its own.
    assert r.of("SIP").step_name("issuance") == "Penerbitan SIP"
    assert r.of("PBG").step_name("issuance") == "Penerbitan PBG"


def test_a_fee_summary_without_published_text_reads_the_formula_label() -> None:
    from loket.fees import FeeSchedule
    from loket.services.published import fee_summary

    schedule = FeeSchedule.model_validate(
        {
            "parameters": {"rate": {"value": 10.0, "source": "Perda"}},
            "items": [
                {
                    "id": "levy",
                    "name": "Retribusi",
                    "formula": "double(months) * rate",
                    "formula_label": {"id": "jumlah bulan × tarif", "en": "months × rate"},
                }
            ],
        }
    )
    assert fee_summary(schedule) == "Retribusi: jumlah bulan × tarif"


def test_document_events_name_the_documents_not_their_ids() -> None:
    r = Readable(CATALOG, "id", WIB).of("PBG")
    returned = r.details("step_returned", {"note": "x", "corrections": ["architecture_drawings"]})
    uploaded = r.details("document_uploaded", {"slot": "land_title", "version": 2})
    shown = [line.value for line in (*returned.lines, *uploaded.lines)]
    assert "Gambar rencana arsitektur" in shown
    assert any(v.startswith("Bukti kepemilikan hak atas tanah") for v in shown)
    assert not any("_" in v for v in shown)
