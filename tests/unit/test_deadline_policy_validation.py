"""Validation of the per-step deadline policies (deemed approval, on_deadline) and of the
outcomes an applicant may choose: each broken file reports exactly its problems, naming the
file and the path inside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from loket.route.loader import load_catalog, validate_paths
from loket.route.model import TaskStep
from loket.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"
CORPUS = Path(__file__).parent / "policy_definitions"

EXPECTED: dict[str, list[tuple[str, str]]] = {
    "deemed_without_approve.yaml": [
        ("steps[1].deemed_approval", "deemed approval needs an 'approve' outcome")
    ],
    "deemed_approve_returns.yaml": [
        ("steps[1].deemed_approval", "'approve' returns to the applicant")
    ],
    "on_deadline_unknown_outcome.yaml": [
        ("steps[1].on_deadline.outcome", "'close' is not an outcome of this step")
    ],
    "both_policies_paused.yaml": [
        ("steps[1].on_deadline", "give either 'deemed_approval' or 'on_deadline'"),
        ("steps[1].clock", "a step whose clock is paused has no deadline"),
    ],
    "applicant_outcome_unknown.yaml": [
        ("steps[1].applicant_outcomes[0]", "'reopen' is not an outcome of this step"),
        ("steps[1].applicant_outcomes[1]", "the applicant cannot return a file to itself"),
    ],
    "valid_deemed.yaml": [],
}


def test_every_corpus_file_has_expectations() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_policy_problems_name_file_and_path(name: str) -> None:
    errors = validate_paths([CORPUS / name], DEFINITIONS)
    shown = "\n".join(str(e) for e in errors)
    assert all(e.file == str(CORPUS / name) for e in errors), shown
    found = [(e.path, e.message) for e in errors]
    for path, fragment in EXPECTED[name]:
        assert any(p == path and fragment in m for p, m in found), f"missing {path} in\n{shown}"
    assert len(errors) == len(EXPECTED[name]), f"unexpected errors:\n{shown}"


def test_the_error_line_reads_file_path_message() -> None:
    (error,) = validate_paths([CORPUS / "deemed_without_approve.yaml"], DEFINITIONS)
    assert str(error).startswith(
        f"{CORPUS / 'deemed_without_approve.yaml'}: steps[1].deemed_approval: deemed approval"
    )


def test_the_complaint_route_is_loaded_apart_from_the_permit_catalog() -> None:
    catalog = load_catalog(DEFINITIONS)
    assert "ADU" not in catalog.permits
    route = catalog.complaints["ADU"]
    closing = next(s for s in route.steps if isinstance(s, TaskStep) and s.id == "closing")
    assert closing.on_deadline is not None and closing.on_deadline.outcome == "close"
    assert closing.applicant_outcomes == ["reopen"]
    assert validate_paths([DEFINITIONS / "complaints" / "complaint.yaml"], DEFINITIONS) == []
    # Off by default: no real permit step carries a policy.
    for permit in catalog.permits.values():
        assert not any(isinstance(s, TaskStep) and s.deemed_approval for s in permit.steps)
