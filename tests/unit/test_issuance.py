"""The issued permit's pure rules: number formats, validity, NIK masking, and the checks of
a definition's issuing step and permit spec."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.calendar import calendar_for
from loket.calendar_data import covered_years, load_calendar
from loket.case import records
from loket.case.core import Case
from loket.case.messages import Actor, DecisionRequest
from loket.case.permit import IssuedPermit, issues_permit, numbering_request
from loket.refusal import RefusalCode, Refused
from loket.route.form import normalize
from loket.route.issuance import (
    NUMBER_MAX_LENGTH,
    NUMBER_PATTERN,
    format_problems,
    mask_id,
    render_number,
    valid_until,
)
from loket.route.loader import load_catalog
from loket.route.model import PermitType, TaskStep
from loket.route.validate import check_permit
from loket.settings import PROJECT_ROOT
from tests.support import PBG_FORM, SIP_FORM

CATALOG = load_catalog(PROJECT_ROOT / "definitions")
PBG = CATALOG.permits["PBG"]
ISSUER = Actor(username="gita", role="staff", counters=("dpmptsp/issuance",))


def _with(permit: PermitType, **changes: Any) -> PermitType:
    return PermitType.model_validate({**permit.model_dump(mode="json"), **changes})


def _problems(permit: PermitType) -> list[tuple[str, str]]:
    return check_permit(permit, CATALOG.agencies)


def test_every_definition_issues_its_permit_from_one_step() -> None:
    for permit in CATALOG.permits.values():
        issuing = [s for s in permit.steps if isinstance(s, TaskStep) and s.issues_permit]
        assert [s.id for s in issuing] == ["issuance"], permit.id
        assert permit.issued_permit is not None
        assert _problems(permit) == []


def test_the_number_format_of_the_brief() -> None:
    fmt = "503/{seq:04}/PBG/DPMPTSP/{year}"
    assert format_problems(fmt) == []
    assert render_number(fmt, 1, 2026, 12) == "503/0001/PBG/DPMPTSP/2026"
    assert render_number(fmt, 12345, 2026, 1) == "503/12345/PBG/DPMPTSP/2026"
    assert render_number("{year}.{month:02}.{seq}", 7, 2027, 3) == "2027.03.7"


@pytest.mark.parametrize(
    ("fmt", "fragment"),
    [
        ("503/{seq:04}/PBG", "needs {year}"),
        ("503/PBG/{year}", "exactly one {seq}"),
        ("{seq}/{seq}/{year}", "exactly one {seq}"),
        ("503/{nomor}/{year}", "only letters, digits"),
        ("503 {seq}/{year}", "only letters, digits"),
        ("503/{seq:4}/{year}", "only letters, digits"),
        ("503/{seq}/{year}?x=1", "only letters, digits"),
        ("X" * 90 + "/{seq:06}/{year}", "longer than 100"),
    ],
)
def test_bad_number_formats_are_named(fmt: str, fragment: str) -> None:
    problems = format_problems(fmt)
    assert any(fragment in p for p in problems), problems


_LITERAL = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./_-", max_size=12)


@st.composite
def formats(draw: st.DrawFn) -> str:
    parts = [draw(_LITERAL), "{seq" + draw(st.sampled_from(["", ":02", ":04", ":06"])) + "}"]
    parts += [draw(_LITERAL), "{year}", draw(_LITERAL)]
    if draw(st.booleans()):
        parts.append("{month:02}")
    return "".join(parts)


@given(formats(), st.integers(1, 999_999), st.integers(1, 999_999), st.integers(2000, 2100))
def test_valid_formats_give_distinct_url_safe_numbers(fmt: str, a: int, b: int, year: int) -> None:
    assert format_problems(fmt) == []
    first, second = render_number(fmt, a, year, 5), render_number(fmt, b, year, 5)
    for number in (first, second):
        assert re.fullmatch(NUMBER_PATTERN, number) and len(number) <= NUMBER_MAX_LENGTH
    assert (first == second) == (a == b)


def test_validity_ends_the_day_before_the_anniversary() -> None:
    spec = CATALOG.permits["SIP"].issued_permit
    assert spec is not None and spec.validity is not None and spec.validity.years == 5
    assert valid_until(spec, date(2026, 12, 1)) == date(2031, 11, 30)
    assert valid_until(spec, date(2028, 2, 29)) == date(2033, 2, 27)
    assert (
        PBG.issued_permit is not None and valid_until(PBG.issued_permit, date(2026, 1, 1)) is None
    )


def test_a_nik_is_masked_as_the_brief_shows() -> None:
    assert mask_id("3316014101900001") == "3316********0001"


@given(st.text(alphabet="0123456789", min_size=1, max_size=24))
def test_masking_keeps_the_length_and_hides_the_middle(value: str) -> None:
    masked = mask_id(value)
    assert len(masked) == len(value)
    shown = [c for c in masked if c != "*"]
    assert len(shown) <= 8 and len(shown) <= len(value) // 2
    if len(value) >= 16:
        assert masked[4:-4] == "*" * (len(value) - 8)


def _step(permit: PermitType, step_id: str) -> dict[str, Any]:
    return next(s for s in permit.model_dump(mode="json")["steps"] if s["id"] == step_id)


def _steps_with(permit: PermitType, step_id: str, **changes: Any) -> list[dict[str, Any]]:
    return [
        {**s, **changes} if s["id"] == step_id else s
        for s in permit.model_dump(mode="json")["steps"]
    ]


def test_two_issuing_steps_are_refused() -> None:
    permit = _with(PBG, steps=_steps_with(PBG, "payment", issues_permit=True))
    problems = _problems(permit)
    assert ("steps[8].issues_permit", "only one step issues the permit") in problems


def test_the_issuing_step_must_approve_into_finish() -> None:
    steps = _steps_with(PBG, "issuance", issues_permit=False)
    steps = [{**s, "issues_permit": True} if s["id"] == "assessment" else s for s in steps]
    problems = _problems(_with(PBG, steps=steps))
    assert ("steps[6].outcomes", "the step that issues the permit needs 'approve: finish'") in (
        problems
    )


def test_spec_and_step_go_together() -> None:
    no_spec = _with(PBG, issued_permit=None)
    assert ("issued_permit", "a step issues the permit: describe it under 'issued_permit'") in (
        _problems(no_spec)
    )
    no_step = _with(PBG, steps=_steps_with(PBG, "issuance", issues_permit=False))
    assert ("issued_permit", "no step has 'issues_permit: true' to issue this permit") in (
        _problems(no_step)
    )


def test_spec_fields_and_template_are_checked() -> None:
    assert PBG.issued_permit is not None
    spec = PBG.issued_permit.model_dump(mode="json")
    bad = {
        **spec,
        "holder_name": "nama",
        "holder_id": "floors",
        "object_fields": ["site_address", "luas"],
        "template": "pbg-v9",
        "number": {"format": "503/{seq}"},
    }
    paths = {p for p, _ in _problems(_with(PBG, issued_permit=bad))}
    assert paths == {
        "issued_permit.holder_name",
        "issued_permit.holder_id",
        "issued_permit.object_fields[1]",
        "issued_permit.template",
        "issued_permit.number.format",
    }


def test_which_decision_issues_and_what_it_asks_the_numbering_for() -> None:
    approve = DecisionRequest(step_id="issuance", outcome="approve", actor=ISSUER)
    assert issues_permit(PBG, approve)
    assert not issues_permit(PBG, approve.model_copy(update={"step_id": "registration"}))
    data = {**PBG_FORM, "is_mbr": False}
    request = numbering_request(PBG, data, "PBG-2026-000001", _now(), 7)
    assert request.holder_name == "Siti Rahayu"
    assert request.holder_id_masked == "3316********0001"
    assert "3316014101900001" not in request.model_dump_json()  # the full NIK stays out
    assert dict(request.object)["Luas lantai total (m²)"] == "640"


def _now() -> Any:
    return datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_the_case_core_issues_only_a_numbered_permit_and_tells_the_applicant() -> None:
    definitions = PROJECT_ROOT / "definitions"
    sip = CATALOG.permits["SIP"]
    case = Case(sip, calendar_for(load_calendar(definitions, *covered_years(definitions))))
    now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    state = case.start("SIP-2026-000001", normalize(case.permit, SIP_FORM), ISSUER, now).state
    for step, counter in (
        ("registration", "dpmptsp/front_office"),
        ("health_verification", "dinkes/health_licensing"),
    ):
        actor = Actor(username="s", role="staff", counters=(counter,))
        request = DecisionRequest(step_id=step, outcome="approve", actor=actor)
        state = case.decide(state, request, now).state
    approve = DecisionRequest(step_id="issuance", outcome="approve", actor=ISSUER)
    with pytest.raises(Refused) as refused:
        case.decide(state, approve, now)
    assert refused.value.code is RefusalCode.PERMIT_NOT_NUMBERED
    issued = IssuedPermit(
        number="503/0001/SIP/DPMPTSP/2026",
        issued_on=date(2026, 12, 1),
        valid_until=date(2031, 11, 30),
        pdf_sha256="c" * 64,
        pdf_size=3600,
    )
    change = case.decide(state, approve, now, issued)
    assert change.state.permit_number == issued.number and change.state.finished
    assert change.batch is not None
    events = [e.event for e in change.batch.audit]
    assert events[0] == "permit_issued" and events[-1] == "application_finished"
    entry = change.batch.audit[0]
    assert entry.details["permit_number"] == issued.number
    assert entry.details["pdf_sha256"] == "c" * 64
    # The applicant hears "permit ready" (and, from the finish, "approved").
    (note,) = [n for n in change.batch.notifications if n.kind == "permit_ready"]
    assert [n.kind for n in change.batch.notifications] == ["permit_ready", "application_approved"]
    assert note.recipient == "applicant"
    assert note.key == f"SIP-2026-000001:permit_ready:{entry.seq}"
    assert note.payload == {
        "registration_number": "SIP-2026-000001",
        "permit_type": "SIP",
        "permit_number": issued.number,
        "verify_path": "/verify/503/0001/SIP/DPMPTSP/2026",
    }
    assert records.view(case, change.state).permit_number == issued.number
