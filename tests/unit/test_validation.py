"""Validation of route definitions: a corpus of broken permit files, each with its expected
errors (path inside the file and a fragment of the message), checked against the real
agencies of ``definitions/``. Every file must report exactly the listed errors: the
problem it was written for, and nothing spurious beside it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loket.route.loader import (
    DefinitionError,
    DefinitionErrors,
    load_catalog,
    validate_paths,
)
from loket.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"
CORPUS = Path(__file__).parent / "broken_definitions"

# file -> every (path, message fragment) it must report, in any order.
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "unknown_agency.yaml": [("steps[1].agency", "unknown agency 'dinas_nope'")],
    "unknown_counter.yaml": [("steps[1].counter", "agency 'dpupr' has no counter 'cashier'")],
    "duplicate_step_ids.yaml": [("steps[2].id", "duplicate step id 'review' (first at steps[1])")],
    "outcome_leads_nowhere.yaml": [
        ("steps[1].outcomes.rework", "leads to 'intkae', which is neither a step id nor one of")
    ],
    "unreachable_step.yaml": [
        ("steps[2]", "step 'orphan' is unreachable from the first step 'intake'")
    ],
    "loop_without_exit.yaml": [
        ("steps[0]", "step 'intake' leads only into a loop with no exit"),
        ("steps[1]", "step 'review' is in a loop with no exit"),
        ("steps[2]", "step 'check' is in a loop with no exit: no path from it reaches 'finish'"),
    ],
    "cel_does_not_compile.yaml": [("steps[1].when", "'building_area_m2 > ' does not compile")],
    "cel_unknown_field.yaml": [
        ("steps[1].when", "names unknown field 'area' (known: building_area_m2, floors, is_mbr)")
    ],
    "int_double_mix.yaml": [
        ("fees.items[0].formula", "fails on a sample application: 'floors * rate'")
    ],
    "deadline_zero.yaml": [
        ("steps[0].deadline.working_days", "must be a positive whole number, got 0")
    ],
    "deadline_negative.yaml": [
        ("steps[0].deadline.working_hours", "must be a positive whole number, got -4")
    ],
    "unknown_key.yaml": [("steps[0].dedline", "unknown key")],
    "join_outside_branch.yaml": [
        ("steps[1]", "leads to 'join' but is not inside a parallel branch")
    ],
    "finish_inside_branch.yaml": [
        ("steps[2]", "inside a parallel branch: it leads to 'join', not 'finish'")
    ],
    "paid_without_assessment.yaml": [("fees", "a paid license needs one step with 'assesses_fees")],
    "free_with_items.yaml": [("fees", "a free license has no fee items")],
    "free_with_assessment.yaml": [("steps[0].assesses_fees", "this license is free")],
    "reserved_step_id.yaml": [
        ("steps[1].id", "'reject' is reserved for an outcome target"),
        ("steps[1]", "unreachable"),  # 'reject' always means the target, never this step
    ],
    "conditional_without_approve.yaml": [
        ("steps[1].when", "a conditional step needs an 'approve' outcome")
    ],
    "duplicate_yaml_key.yaml": [("line 5, column 1", "not valid YAML: duplicate key 'name'")],
    "invalid_yaml.yaml": [("line 6, column 1", "not valid YAML: expected ',' or '}'")],
    "number_without_bounds.yaml": [
        ("form.building_area_m2.maximum", "a field of type 'number' needs a 'maximum'"),
        ("form.floors.minimum", "a field of type 'integer' needs a 'minimum'"),
    ],
    "several_problems.yaml": [
        ("steps[0].outcomes.reject", "leads to 'rejcet'"),
        ("steps[1].agency", "unknown agency 'dinas_nope'"),
        ("steps[1].when", "'floors > ' does not compile"),
        ("steps[2].counter", "agency 'dpmptsp' has no counter 'cashier'"),
    ],
    # readable pages (12c): what the public reads needs words, the CEL stays under "rumus"
    "public_rules_without_labels.yaml": [
        ("steps[1].when_label", "the public reads this condition: give 'when_label'"),
        ("documents[0].required_when_label", "give 'required_when_label'"),
        ("service_time.variants[0].label", "a service-time variant needs a label"),
        ("fees.items[0].formula_label", "the public reads this formula: give 'formula_label'"),
        ("fees.items[0].applies_when_label", "give 'applies_when_label'"),
        ("fees.items[0].waived_when_label", "give 'waived_when_label'"),
        ("form.use.choice_labels", "every choice needs the name people read; missing: shop"),
        ("form.use.choice_labels", "labels for no choice: barn"),
    ],
}


def errors_of(name: str) -> list[DefinitionError]:
    return validate_paths([CORPUS / name], DEFINITIONS)


def test_every_corpus_file_has_expectations() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_definition_reports_its_problems(name: str) -> None:
    errors = errors_of(name)
    shown = "\n".join(str(e) for e in errors)
    assert all(e.file == str(CORPUS / name) for e in errors)
    found = [(e.path, e.message) for e in errors]
    for path, fragment in EXPECTED[name]:
        assert any(p == path and fragment in m for p, m in found), (
            f"missing {path}: ...{fragment}... in\n{shown}"
        )
    assert len(errors) == len(EXPECTED[name]), f"unexpected extra errors:\n{shown}"


def test_error_lines_read_file_path_message() -> None:
    (error,) = errors_of("unknown_counter.yaml")
    assert str(error) == (
        f"{CORPUS / 'unknown_counter.yaml'}: steps[1].counter: agency 'dpupr' has no "
        "counter 'cashier' (its counters: pbg_secretariat, tpa, retribution)"
    )


def test_the_real_catalog_is_valid() -> None:
    catalog = load_catalog(DEFINITIONS)
    assert set(catalog.permits) >= {"PBG", "SIP", "PTKA"}
    assert validate_paths([DEFINITIONS], DEFINITIONS) == []
    for path in sorted((DEFINITIONS / "permits").glob("*.yaml")):
        assert validate_paths([path], DEFINITIONS) == [], path


def test_real_catalog_facts() -> None:
    catalog = load_catalog(DEFINITIONS)
    pbg = catalog.permit("PBG")
    assert pbg.service_time.standard.working_days == 28
    assert [v.duration.working_days for v in pbg.service_time.variants] == [10]
    assert catalog.permit("SIP").fees.free
    assert not catalog.permit("PTKA").fees.free


def _copy_definitions(tmp_path: Path) -> Path:
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, target)
    return target


def test_catalog_folder_collects_errors_of_every_file(tmp_path: Path) -> None:
    defs = _copy_definitions(tmp_path)
    shutil.copy(CORPUS / "unknown_agency.yaml", defs / "permits" / "broken_a.yaml")
    shutil.copy(CORPUS / "deadline_zero.yaml", defs / "permits" / "broken_b.yaml")
    with pytest.raises(DefinitionErrors) as caught:
        load_catalog(defs)
    files = {e.file for e in caught.value.errors}
    assert files == {"definitions/permits/broken_a.yaml", "definitions/permits/broken_b.yaml"}
    assert validate_paths([defs], DEFINITIONS) == caught.value.errors


def test_two_files_with_the_same_permit_id(tmp_path: Path) -> None:
    defs = _copy_definitions(tmp_path)
    shutil.copy(defs / "permits" / "sip.yaml", defs / "permits" / "sip_copy.yaml")
    with pytest.raises(DefinitionErrors) as caught:
        load_catalog(defs)
    (error,) = caught.value.errors
    assert error.file == "definitions/permits/sip_copy.yaml" and error.path == "id"
    assert "permit type 'SIP' is defined in sip.yaml too" in error.message


def test_broken_agencies_file(tmp_path: Path) -> None:
    defs = _copy_definitions(tmp_path)
    agencies = defs / "agencies.yaml"
    text = agencies.read_text(encoding="utf-8")
    agencies.write_text(
        text.replace("id: back_office", "id: front_office").replace("id: dlh", "id: dpupr"),
        encoding="utf-8",
    )
    errors = validate_paths([agencies], DEFINITIONS)  # the given file, not DEFINITIONS'
    found = {(e.path, e.message) for e in errors}
    assert ("agencies[0].counters[1].id", "duplicate counter 'front_office'") in found
    assert ("agencies[2].id", "duplicate agency 'dpupr'") in found
    # A folder with broken agencies reports them and checks no permit against them.
    assert {e.file for e in validate_paths([defs], DEFINITIONS)} == {"definitions/agencies.yaml"}


def test_permit_file_is_checked_against_its_own_folders_agencies(tmp_path: Path) -> None:
    defs = _copy_definitions(tmp_path)
    (defs / "agencies.yaml").write_text(
        "agencies:\n  - {id: solo, name: Solo, short: S, head_title: Head,\n"
        "     counters: [{id: desk, name: Desk}]}\n",
        encoding="utf-8",
    )
    errors = validate_paths([defs / "permits" / "sip.yaml"], DEFINITIONS)
    assert errors and all("unknown agency" in e.message for e in errors)
