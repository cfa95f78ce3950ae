"""The simulator (``loket.simulation``): routing agrees with the routing core, determinism,
the working calendar, scenario checks, an M/M/1 queue against its formula, and the CLI."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from loket.calendar import CalendarSnapshot, OfficeSession, WorkCalendar
from loket.calendar_data import covered_years, load_calendar
from loket.cli import main
from loket.route.loader import DefinitionErrors, load_catalog
from loket.route.model import PermitType
from loket.route.stepper import RouteState, Stepper
from loket.settings import PROJECT_ROOT
from loket.simulation.distributions import Exponential, Fixed, parse_hours
from loket.simulation.engine import ScenarioError, build_model, simulate
from loket.simulation.files import load_scenario, read_scenario
from loket.simulation.fit import fit_service_times
from loket.simulation.report import to_json
from loket.simulation.scenario import Scenario
from loket.simulation.timeline import Timeline

DEFINITIONS = PROJECT_ROOT / "definitions"
SCENARIOS = DEFINITIONS / "scenarios"
CATALOG = load_catalog(DEFINITIONS)


@pytest.fixture(scope="module")
def blora() -> WorkCalendar:
    return WorkCalendar(load_calendar(DEFINITIONS, *covered_years(DEFINITIONS)))


def scenario(**extra: Any) -> Scenario:
    base: dict[str, Any] = {
        "name": "test",
        "start": "2026-03-02",
        "working_days": 40,
        "drain_working_days": 40,
        "permits": [],
    }
    return Scenario.model_validate({**base, **extra})


# --- routing: the simulator's paths are the routing core's ------------------------------


def replay(permit: PermitType, trace: Any) -> tuple[list[str], str | None]:
    """Feed a recorded application's decisions to a fresh Stepper, resubmitting at the
    points where the simulator's applicant did; return the steps the stepper opens (and
    reopens) and the result."""
    stepper = Stepper(permit)
    transition = stepper.start(trace.data)
    state: RouteState = transition.state
    opened = [e.step_id for e in transition.events if e.kind == "step_opened"]
    resubmissions = list(trace.resubmissions)
    for i, (step_id, outcome) in enumerate([*trace.decisions, (None, None)]):
        while resubmissions and resubmissions[0] == i:
            resubmissions.pop(0)
            transition = stepper.resubmit(state)
            state = transition.state
            opened += [e.step_id for e in transition.events if e.kind == "step_resumed"]
        if step_id is None:
            break
        transition = stepper.decide(state, trace.data, step_id, outcome)
        state = transition.state
        opened += [e.step_id for e in transition.events if e.kind == "step_opened"]
    return [s or "" for s in opened], state.result


def test_simulated_paths_are_the_stepper_paths_for_the_same_decisions(blora: WorkCalendar) -> None:
    pbg = CATALOG.permit("PBG")
    load = {
        "permit": "PBG",
        "arrivals_per_day": 6,
        "applications": [
            {"data": {"building_area_m2": 90, "floors": 1}},
            {"data": {"building_area_m2": 800, "floors": 3, "building_use": "usaha"}},
            {"data": {"building_area_m2": 36, "floors": 1, "is_mbr": True}},
            {"data": {"building_area_m2": 600, "floors": 1, "is_mbr": True}},
        ],
        "return_share": 0.3,
        "reject_share": 0.05,
        "max_returns": 3,
    }
    sc = scenario(permits=[load], working_days=20)
    model = build_model(sc.permits[0], pbg)
    timeline = Timeline(blora, sc.start, sc.working_days + sc.drain_working_days)
    result = simulate(sc, [model], timeline, record_traces=True)
    assert len(result.traces) > 80
    returned = rejected = 0
    for trace in result.traces.values():
        if trace.result is None:
            continue
        opened, outcome = replay(pbg, trace)
        assert opened == trace.opened
        assert outcome == trace.result
        returned += any(o == "return" for _, o in trace.decisions)
        rejected += trace.result == "rejected"
    assert returned > 20 and rejected > 3  # the comparison covered returns and rejections


def test_an_all_approving_mbr_application_takes_the_mbr_path(blora: WorkCalendar) -> None:
    load = {
        "permit": "PBG",
        "arrivals_per_day": 2,
        "applications": [{"data": {"building_area_m2": 36, "is_mbr": True}}],
    }
    sc = scenario(permits=[load], working_days=5)
    model = build_model(sc.permits[0], CATALOG.permit("PBG"))
    result = simulate(sc, [model], Timeline(blora, sc.start, 40), record_traces=True)
    for trace in result.traces.values():
        assert trace.opened == ["registration", "completeness", "prototype_review", "issuance"]
        assert trace.result == "approved"


# --- determinism and the calendar ---------------------------------------------------------


def test_same_seed_same_result_other_seed_other_result(blora: WorkCalendar) -> None:
    loaded = load_scenario(SCENARIOS / "pbg-as-is.yaml", DEFINITIONS)
    sc = loaded.scenario.model_copy(update={"working_days": 30, "drain_working_days": 30})
    timeline = Timeline(blora, sc.start, 60)
    first = to_json([simulate(sc, loaded.models, timeline, seed=5)])
    again = to_json([simulate(sc, loaded.models, timeline, seed=5)])
    other = to_json([simulate(sc, loaded.models, timeline, seed=6)])
    assert first == again
    assert first != other


def test_timeline_has_only_working_days_with_their_office_hours(blora: WorkCalendar) -> None:
    timeline = Timeline(blora, date(2026, 3, 16), 10)
    # Nyepi, Idul Fitri and cuti bersama 18-24 March, Good Friday 3 April 2026: not there.
    assert [d.day for d in timeline.dates] == [16, 17, 25, 26, 27, 30, 31, 1, 2, 6]
    assert timeline.lengths[0] == 8 * 3600
    assert timeline.lengths[4] == 8.5 * 3600  # Friday closes at 16:30
    # Positions are working time: day k starts where day k-1 ended.
    assert timeline.starts[1] == timeline.starts[0] + timeline.lengths[0]
    assert timeline.in_days(timeline.starts[2] + 4 * 3600) == 2.5
    # Back to instants with the calendar (a day's opening is the earliest instant with that
    # working time: the previous closing, so look one hour in).
    assert timeline.instant(timeline.starts[2] + 3600).isoformat() == "2026-03-25T09:00:00+07:00"


def test_service_only_in_office_hours_and_lead_time_in_working_days(blora: WorkCalendar) -> None:
    route = PermitType.model_validate(
        {
            "id": "ONE",
            "name": "one step",
            "version": 1,
            "legal_basis": ["test"],
            "product": "p",
            "complaints": "c",
            "service_time": {"standard": "1d"},
            "form": {},
            "fees": {"free": True, "free_basis": "test"},
            "steps": [
                {
                    "id": "only",
                    "name": "only",
                    "agency": "dpmptsp",
                    "counter": "back_office",
                    "deadline": "2d",
                    "outcomes": {"approve": "finish"},
                }
            ],
        }
    )
    load = {"file": "x", "arrivals_per_day": 5}
    sc = scenario(permits=[load], working_days=1, default_staff=50)
    model = build_model(sc.permits[0], route)
    model.service["only"] = Fixed(value=12.0)
    timeline = Timeline(blora, date(2026, 3, 17), 5)  # Tuesday, then the Eid break
    result = simulate(sc, [model], timeline, seed=3)
    assert result.permits[0].finished > 0
    # 12 working hours after any instant of Tuesday 17 March is 1.5 working days later, on
    # 25 or 26 March: the Eid days in between take no time.
    for lead in result.permits[0].lead_days:
        assert lead == pytest.approx(1.5)
    # 12 working hours exceed the 1-day service time: never on time.
    assert result.permits[0].on_time == 0


# --- scenario checks ----------------------------------------------------------------------


def test_scenario_errors_name_the_problem(tmp_path: Path) -> None:
    pbg = CATALOG.permit("PBG")
    unknown_step = {"permit": "PBG", "arrivals_per_day": 1, "steps": {"nope": {}}}
    with pytest.raises(ScenarioError, match=r"steps\.nope: not a task step"):
        build_model(scenario(permits=[unknown_step]).permits[0], pbg)
    bad_field = {"permit": "PBG", "arrivals_per_day": 1, "applications": [{"data": {"x": 1}}]}
    with pytest.raises(ScenarioError, match="'x' is not a field"):
        build_model(scenario(permits=[bad_field]).permits[0], pbg)
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nstart: 2026-01-05\nworking_days: 5\npermits: []\nstaf: {}\n")
    with pytest.raises(DefinitionErrors) as info:
        read_scenario(path)
    text = str(info.value)
    assert "staf: unknown key" in text and "permits" in text


def test_durations_and_fit() -> None:
    assert parse_hours("30m") == 0.5 and parse_hours("1.5d") == 12.0 and parse_hours(2) == 2.0
    with pytest.raises(ValueError, match="not a duration"):
        parse_hours("soon")
    rows = [("PBG", "tpa_review", 7200.0)] * 25 + [("PBG", "issuance", 60.0)] * 3
    fitted = fit_service_times(rows)
    assert set(fitted) == {("PBG", "tpa_review")}  # 3 observations are too few
    assert fitted[("PBG", "tpa_review")].mean == 2.0


# --- M/M/1 --------------------------------------------------------------------------------


def always_open(first_year: int, last_year: int) -> WorkCalendar:
    """Working time = wall time: open all day, every day, no holidays."""
    day = (OfficeSession(opens=time(0), closes=time(23, 59, 59, 999999)),)
    return WorkCalendar(
        CalendarSnapshot(
            label="always",
            office_hours={d: day for d in range(1, 8)},
            first_year=first_year,
            last_year=last_year,
            legal_basis={y: "test" for y in range(first_year, last_year + 1)},
        )
    )


def test_mm1_mean_wait_matches_the_formula() -> None:
    """λ = 0.5/h, μ = 1/h (ρ = 0.5): Wq = ρ / (μ - λ) = 1 hour. About 50,000 customers over
    4,200 days with a fixed seed; tolerance 7 % of Wq (the estimate's own standard error at
    this length is about 2 %), utilization within 0.02 of ρ."""
    lam, mu = 0.5, 1.0
    route = PermitType.model_validate(
        {
            "id": "MM",
            "name": "single counter",
            "version": 1,
            "legal_basis": ["test"],
            "product": "p",
            "complaints": "c",
            "service_time": {"standard": "1d"},
            "form": {},
            "fees": {"free": True, "free_basis": "test"},
            "steps": [
                {
                    "id": "serve",
                    "name": "serve",
                    "agency": "dpmptsp",
                    "counter": "back_office",
                    "deadline": "1d",
                    "outcomes": {"approve": "finish"},
                }
            ],
        }
    )
    days = 4_200
    calendar = always_open(2026, 2026 + days // 365 + 1)
    timeline = Timeline(calendar, date(2026, 1, 1), days)
    day_hours = timeline.lengths[0] / 3600
    sc = scenario(
        start="2026-01-01",
        working_days=days,
        warmup_working_days=20,
        drain_working_days=0,
        permits=[{"file": "mm1", "arrivals_per_day": lam * day_hours}],
    )
    model = build_model(sc.permits[0], route)
    model.service["serve"] = Exponential(mean=1 / mu)
    result = simulate(sc, [model], timeline, seed=11)
    [counter] = result.counters
    rho = lam / mu
    expected = rho / (mu - lam)
    assert counter.served > 45_000
    assert counter.mean_wait_h == pytest.approx(expected, rel=0.07)
    assert counter.utilization == pytest.approx(rho, abs=0.02)


# --- CLI ----------------------------------------------------------------------------------


def test_cli_compares_two_scenarios_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "simulate",
            str(SCENARIOS / "pbg-as-is.yaml"),
            "--compare",
            str(SCENARIOS / "pbg-simplified.yaml"),
            "--out",
            str(tmp_path),
            "--definitions",
            str(DEFINITIONS),
            "--seed",
            "7",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "bottleneck of PBG as-is (v1): dpupr/pbg_secretariat" in captured.out
    assert "━" not in captured.err  # no progress bar: stderr is not a TTY
    for name in ("report.md", "results.json", "lead-time.svg", "utilization.svg", "queue-1.svg"):
        assert (tmp_path / name).exists(), name
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["seed"] for r in results] == [7, 7]
    as_is, simple = ({p["permit"]: p for p in r["permits"]} for r in results)
    assert simple["PBG@v2"]["lead_days"]["p50"] < as_is["PBG@v1"]["lead_days"]["p50"]
    assert as_is["SIP@v1"]["arrived"] == simple["SIP@v1"]["arrived"]  # same applicants
    assert main(["simulate", str(tmp_path / "missing.yaml")]) == 2


def test_progress_bar_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    short = tmp_path / "short.yaml"
    text = (
        (SCENARIOS / "pbg-as-is.yaml").read_text().replace("working_days: 120", "working_days: 15")
    )
    short.write_text(text.replace("warmup_working_days: 10", "warmup_working_days: 1"))
    assert main(["simulate", str(short), "--progress", "--definitions", str(DEFINITIONS)]) == 0
    err = capsys.readouterr().err
    # rich on a pipe: the final state drawn once, no cursor movement.
    bar = next(line for line in err.splitlines() if line.startswith("PBG as-is (v1) "))
    assert "━" in bar and "75/75 days" in bar
    assert "\x1b[" not in err
