"""Route analysis (``loket.analysis``) on small hand-built routes whose numbers are worked
out by hand in each test, then on PBG and its simplified draft, and the CLI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from loket.analysis.diagram import render_svg
from loket.analysis.report import analyze, compare
from loket.analysis.samples import sample_applications
from loket.analysis.walk import walk
from loket.cli import main
from loket.route.loader import load_agencies, load_catalog, load_permit
from loket.route.model import PermitType
from loket.route.stepper import Stepper
from loket.settings import PROJECT_ROOT

DEFINITIONS = PROJECT_ROOT / "definitions"
DRAFT = DEFINITIONS / "drafts" / "pbg-simplified.yaml"
AGENCIES, _ = load_agencies(DEFINITIONS)
assert AGENCIES is not None


def task(step_id: str, agency: str, counter: str, deadline: str, **extra: Any) -> dict[str, Any]:
    outcomes = extra.pop("outcomes", {"approve": extra.pop("to", "finish")})
    return {
        "id": step_id,
        "name": step_id,
        "agency": agency,
        "counter": counter,
        "deadline": deadline,
        "outcomes": outcomes,
        **extra,
    }


def permit(steps: list[dict[str, Any]], **extra: Any) -> PermitType:
    return PermitType.model_validate(
        {
            "id": "TEST",
            "name": "Test permit",
            "version": 1,
            "legal_basis": ["test"],
            "product": "a letter",
            "complaints": "nowhere",
            "service_time": extra.pop("service_time", {"standard": "10d"}),
            "form": extra.pop("form", {}),
            "fees": {"free": True, "free_basis": "test"},
            "steps": steps,
        }
    )


# intake and check at DPMPTSP; a technical review beside a conditional environmental one;
# payment waits on the applicant; issuance at the public counter.
FORKED = permit(
    [
        task("intake", "dpmptsp", "front_office", "1d", to="check", applicant_visit=True),
        task(
            "check",
            "dpmptsp",
            "back_office",
            "2d",
            outcomes={"approve": "reviews", "return": "applicant", "reject": "reject"},
        ),
        {"id": "reviews", "name": "reviews", "parallel": ["tech", "env"], "then": "pay"},
        task("tech", "dpupr", "tpa", "5d", to="join"),
        task("env", "dlh", "environmental_review", "3d", to="join", when="big"),
        task(
            "pay",
            "bank",
            "payment",
            "10d",
            outcomes={"approve": "issue", "unpaid": "reject"},
            clock="paused",
            applicant_visit=True,
        ),
        task("issue", "dpmptsp", "issuance", "1d", applicant_visit=True),
    ],
    form={"big": {"type": "boolean", "label": "Big", "required": False}},
    service_time={
        "standard": "10d",
        "variants": [{"when": "big", "duration": "8d", "label": "big"}],
    },
)


def variant(analysis: Any, label: str) -> Any:
    return next(v for v in analysis.variants if v.label == label)


def test_samples_cover_both_sides_of_every_condition() -> None:
    samples = sample_applications([FORKED])
    assert sorted(s["big"] for s in samples) == [False, True]  # type: ignore[type-var]
    pbg = load_catalog(DEFINITIONS).permit("PBG")
    areas = {s["building_area_m2"] for s in sample_applications([pbg])}
    assert {500.0, 501.0} <= areas  # just at and just above the threshold of 'area > 500.0'


def test_paths_visits_handoffs_and_critical_path_by_hand() -> None:
    analysis = analyze(FORKED, AGENCIES)
    assert [v.label for v in analysis.variants] == ["-", "big"]

    small = variant(analysis, "-")
    assert small.steps == ["intake", "check", "tech", "pay", "issue"]
    assert small.skipped == ["env"]
    assert small.visits == ["intake", "pay", "issue"]
    assert len(small.counters) == 5
    # intake->check (same agency, other counter), check->tech, tech->pay, pay->issue
    assert (small.handoffs, small.agency_handoffs) == (4, 3)
    # 1 + 2 + 5 + (payment: applicant time, not the government's) + 1
    assert small.critical_days == 9
    assert small.applicant_days == 10
    assert small.service_days == 10 and not small.exceeds

    big = variant(analysis, "big")
    assert big.critical_path == ["intake", "check", "tech", "pay", "issue"]
    assert big.critical_days == 9  # the 3-day env review runs beside the 5-day tech review
    assert (big.handoffs, big.agency_handoffs) == (6, 5)  # both branches in and out
    assert big.service_days == 8 and big.exceeds
    assert analysis.flagged == [big]
    assert analysis.agencies == ["dpmptsp", "dpupr", "dlh", "bank"]
    assert sum(c.public for c in analysis.counters) == 3  # front_office, payment, issuance


def test_merge_candidates_same_agency_not_across_fork_or_payment() -> None:
    analysis = analyze(FORKED, AGENCIES)
    merges = {(s.first, s.second) for s in analysis.suggestions_of("merge")}
    assert merges == {("intake", "check")}
    assert analysis.suggestions_of("parallel") == []


def test_parallel_candidate_rules() -> None:
    gate = {"approve": "b", "return": "applicant", "reject": "reject"}
    route = permit(
        [
            task("a", "dpmptsp", "front_office", "1d", outcomes=gate),
            task("b", "dinkes", "health_licensing", "3d", to="c"),
            task("c", "disnaker", "foreign_workers", "1d", to="d"),
            task("d", "dpmptsp", "issuance", "1d"),
        ]
    )
    pairs = {(s.first, s.second) for s in analyze(route, AGENCIES).suggestions_of("parallel")}
    # a only gates b; b only gates c; c -> d: d issues the product, so it waits for all.
    assert pairs == {("a", "b"), ("b", "c")}

    rework = permit(
        [
            task("a", "dpmptsp", "front_office", "1d", outcomes=gate),
            task("b", "dinkes", "health_licensing", "3d", outcomes={"approve": "c", "redo": "a"}),
            task("c", "dpmptsp", "issuance", "1d"),
        ]
    )
    assert analyze(rework, AGENCIES).suggestions_of("parallel") == []  # b sends work back to a

    billed = permit(
        [
            task("a", "dpupr", "retribution", "1d", to="b", assesses_fees=True),
            task("b", "dinkes", "health_licensing", "1d", to="c"),
            task("c", "dpmptsp", "issuance", "1d"),
        ]
    )
    assert analyze(billed, AGENCIES).suggestions_of("parallel") == []  # b acts on the bill


def test_hours_deadlines_count_as_share_of_a_day() -> None:
    route = permit(
        [
            task("a", "dpmptsp", "front_office", "4h", to="b"),
            task("b", "dpmptsp", "issuance", "2h"),
        ]
    )
    only = analyze(route, AGENCIES).variants[0]
    assert only.critical_days == pytest.approx(0.75)
    assert analyze(route, AGENCIES).suggestions_of("merge")[0].reason.startswith("same agency")


def test_walk_uses_the_stepper_path() -> None:
    pbg = load_catalog(DEFINITIONS).permit("PBG")
    data = {"is_mbr": True, "building_area_m2": 36.0}
    walked = walk(Stepper(pbg), data)
    assert walked.order == ["registration", "completeness", "prototype_review", "issuance"]
    assert walked.skipped == ["tpa_review", "environmental_review", "assessment", "payment"]


def test_pbg_mbr_large_building_exceeds_its_ten_days() -> None:
    analysis = analyze(load_catalog(DEFINITIONS).permit("PBG"), AGENCIES)
    assert len(analysis.variants) == 4
    [flagged] = analysis.flagged
    assert flagged.label == "is_mbr & building_area_m2 > 500.0"
    assert (flagged.critical_days, flagged.service_days) == (11, 10)  # 1 + 3 + 5 + 2


def test_compare_pbg_with_the_simplified_draft() -> None:
    pbg = load_catalog(DEFINITIONS).permit("PBG")
    draft, errors = load_permit(DRAFT, AGENCIES)
    assert draft is not None, errors
    comparison = compare(pbg, draft, AGENCIES)
    assert len(comparison.left.counters) == 7 and len(comparison.right.counters) == 5
    rows = {r.label: r for r in comparison.rows}
    mbr_big = rows["is_mbr & building_area_m2 > 500.0"]
    assert (mbr_big.left.critical_days, mbr_big.right.critical_days) == (11, 10)
    assert not mbr_big.right.exceeds
    normal = rows["!is_mbr"]
    assert (normal.left.handoffs, normal.right.handoffs) == (5, 3)
    assert "- registration: removed (dpmptsp/front_office)" in comparison.step_changes
    assert "~ payment: counter bank/payment -> dpmptsp/issuance" in comparison.step_changes


def test_diagram_is_svg_with_lanes_and_dashed_conditional_steps() -> None:
    svg = render_svg(FORKED, AGENCIES, "en")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for lane in ("DPMPTSP", "DPUPR", "DLH", "Bank Jateng", "Route"):
        assert lane in texts
    dashed = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("stroke-dasharray")]
    assert len(dashed) == 1  # 'env' is the only conditional step
    assert "if big" in texts  # no label in this test route: its expression


def test_diagram_speaks_indonesian_and_shows_the_condition_label() -> None:
    pbg = load_catalog(DEFINITIONS).permit("PBG")
    svg = render_svg(pbg, AGENCIES)
    texts = [t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "Alur" in texts and "mulai" in texts and "selesai" in texts
    assert "jika bukan rumah tinggal MBR" in texts and "10 hari kerja" in texts
    assert not [t for t in texts if "is_mbr" in t or "clock paused" in t or "also:" in t]
    english = render_svg(pbg, AGENCIES, "en")
    assert "if not a low-income (MBR)" in english and "jika" not in english


def test_cli_analyze_flags_compares_and_draws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pbg.svg"
    code = main(
        [
            "analyze",
            "PBG",
            "--compare",
            str(DRAFT),
            "--svg",
            str(out),
            "--definitions",
            str(DEFINITIONS),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "FLAG: path [is_mbr & building_area_m2 > 500.0]" in text
    assert "PBG@v1 (Persetujuan Bangunan Gedung)  versus  PBG@v2" in text
    assert out.exists() and (tmp_path / "pbg.compare.svg").exists()
    assert main(["analyze", "PBG", "--strict", "--definitions", str(DEFINITIONS)]) == 1
    assert main(["analyze", "NOPE", "--definitions", str(DEFINITIONS)]) == 2
    assert "unknown permit type 'NOPE'" in capsys.readouterr().err
