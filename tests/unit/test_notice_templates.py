"""Notice templates: one file per kind in id and en, validated like route definitions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.case.notices import KINDS
from loket.notify.templates import SAMPLES, TEMPLATE_KINDS, load_templates, rupiah
from loket.route.loader import DefinitionErrors

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
TEMPLATES = load_templates(DEFINITIONS)


def test_every_kind_of_the_contract_has_a_template_in_both_languages() -> None:
    templates = load_templates(DEFINITIONS)
    assert templates.version == "v1"
    assert set(KINDS) <= set(TEMPLATE_KINDS)
    for kind in TEMPLATE_KINDS:
        payload = {"registration_number": "PBG-2026-000001", "permit_type": "PBG", **SAMPLES[kind]}
        for lang in ("id", "en"):
            out = templates.render(kind, lang, payload, "https://loket.blorakab.go.id/")
            assert "PBG-2026-000001" in out.subject + out.short
            assert "\n" not in out.subject and out.text and out.short


def test_facts_of_a_kind_appear_in_its_message() -> None:
    templates = load_templates(DEFINITIONS)
    billed = {"registration_number": "R", "permit_type": "PBG", **SAMPLES["fee_billed"]}
    out = templates.render("fee_billed", "id", billed, "https://x")
    assert "Rp 1.250.000" in out.text and "8800123456789" in out.text and "2026-12-10" in out.text
    ready = {"registration_number": "R", "permit_type": "PBG", **SAMPLES["permit_ready"]}
    out = templates.render("permit_ready", "en", ready, "https://x/")
    assert "https://x/verify/503-0112-PBG-DPM-PTSP-2026" in out.text
    returned = {
        "registration_number": "R",
        "permit_type": "PBG",
        "step_id": "s",
        "step_name": "S",
        "items": [],
        "note": "",
    }
    out = templates.render("application_returned", "en", returned, "https://x")
    assert "To correct" not in out.text and "By:" not in out.short  # no items, no due date


def test_rupiah_groups_thousands_with_dots() -> None:
    assert rupiah(0) == "Rp 0"
    assert rupiah(1250000) == "Rp 1.250.000"


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(DEFINITIONS / "notifications", tmp_path / "notifications")
    return tmp_path / "notifications" / "v1"


def test_a_missing_template_is_an_error_naming_the_file(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "permit_ready.yaml").unlink()
    with pytest.raises(DefinitionErrors) as exc:
        load_templates(tmp_path)
    assert [(e.file, e.message) for e in exc.value.errors] == [
        ("notifications/v1/permit_ready.yaml", "missing: no template for kind permit_ready")
    ]


def test_an_undefined_name_or_a_broken_template_names_file_and_place(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "fee_billed.yaml"
    path.write_text(path.read_text().replace("{{ billing_code }}", "{{ billing_kode }}", 1))
    broken = folder / "payment_received.yaml"
    broken.write_text(broken.read_text().replace("{{ amount | rupiah }}", "{{ amount | rupiah", 1))
    with pytest.raises(DefinitionErrors) as exc:
        load_templates(tmp_path)
    places = sorted((e.file, e.path) for e in exc.value.errors)
    assert places == [
        ("notifications/v1/fee_billed.yaml", "id.text"),
        ("notifications/v1/payment_received.yaml", "id.text"),
    ]
    assert "billing_kode" in str(exc.value)


def test_the_highest_version_is_live(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    v2 = folder.parent / "v2"
    shutil.copytree(folder, v2)
    path = v2 / "application_received.yaml"
    path.write_text(path.read_text().replace("telah diterima", "sudah diterima", 1))
    payload = {"registration_number": "R", "permit_type": "SIP"}
    live = load_templates(tmp_path)
    assert live.version == "v2"
    assert "sudah diterima" in live.render("application_received", "id", payload, "").subject
    assert load_templates(tmp_path, "v1").version == "v1"


@given(st.text(max_size=200), st.text(max_size=80))
def test_staff_text_is_rendered_as_given_never_evaluated(note: str, step_name: str) -> None:
    payload = {
        "registration_number": "R",
        "permit_type": "PBG",
        "step_id": "s",
        "step_name": step_name,
        "items": [{"id": "x", "name": "{{ 7 * 7 }}"}],
        "note": note,
    }
    out = TEMPLATES.render("application_returned", "id", payload, "https://x")
    assert "{{ 7 * 7 }}" in out.text and "49" not in out.text.replace(note, "").replace(
        step_name, ""
    )
    assert "\n" not in out.subject and "\r" not in out.subject
    if note.strip():
        assert note.strip() in out.text
