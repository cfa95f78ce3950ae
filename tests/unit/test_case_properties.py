"""Property tests of the pure case core: random files worked by random decisions, returns,
resubmissions, extensions and recomputes, with time passing between them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loket.calendar import WorkCalendar, calendar_for
from loket.calendar_data import covered_years, load_calendar
from loket.case.audit import entry_hash
from loket.case.core import Case
from loket.case.draft import Change
from loket.case.messages import (
    Actor,
    DecisionRequest,
    ExtendRequest,
    RecomputeRequest,
    ResubmitRequest,
)
from loket.case.state import CaseState
from loket.refusal import Refused
from loket.route.form import normalize
from loket.route.loader import load_catalog
from loket.simulation.engine import Application, Simulation
from tests.support import PBG_FORM

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
CATALOG = load_catalog(DEFINITIONS)
SNAPSHOT = load_calendar(DEFINITIONS, *covered_years(DEFINITIONS))
CALENDAR: WorkCalendar = calendar_for(SNAPSHOT)
PBG = CATALOG.permit("PBG")
START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # Monday 08:30 WIB
APPLICANT = Actor(username="applicant:x", role="applicant")
ADMIN = Actor(username="admin", role="admin")


def supervisor_of(case: Case, step_id: str) -> Actor:
    return Actor(username="sup", role="supervisor", agency=case.graph.task(step_id).agency)


# One move of a file: (kind, a choice index, working hours that pass before it).
moves = st.lists(
    st.tuples(
        st.sampled_from(["approve", "return", "resubmit", "extend", "recompute"]),
        st.integers(0, 5),
        st.integers(0, 40),
    ),
    max_size=25,
)


def _play(plan: list[tuple[str, int, int]]) -> tuple[Case, list[tuple[CaseState, Change]]]:
    case = Case(PBG, CALENDAR)
    data = dict(
        normalize(PBG, {**PBG_FORM, "building_area_m2": random.Random(1).choice([80, 640])})
    )
    first = case.start("PBG-2026-000001", data, APPLICANT, START)
    empty = first.state.model_copy(update={"seq": 0, "hashes": (), "clocks": ()})
    steps: list[tuple[CaseState, Change]] = [(empty, first)]
    state, now = first.state, START
    for kind, pick, hours in plan:
        if state.finished:
            break
        now = CALENDAR.add_working_time(now, timedelta(hours=hours))
        open_now = [t for t in state.route.tokens if t.status == "open"]
        try:
            if kind in ("approve", "return") and open_now:
                token = open_now[pick % len(open_now)]
                step = case.graph.task(token.step_id)
                outcome = kind if kind in step.outcomes else "approve"
                actor = Actor(username="s", role="supervisor", agency=step.agency)
                change = case.decide(
                    state, DecisionRequest(step_id=step.id, outcome=outcome, actor=actor), now
                )
            elif kind == "resubmit":
                change = case.resubmit(state, ResubmitRequest(actor=APPLICANT, note="ok"), now)
            elif kind == "extend" and state.clocks:
                clock = state.clocks[pick % len(state.clocks)]
                request = ExtendRequest(
                    step_id=clock.step_id,
                    extra=f"{pick + 1}h",
                    reason="rapat",
                    actor=supervisor_of(case, clock.step_id),
                )
                change = case.extend(state, request, now)
            elif kind == "recompute":
                request = RecomputeRequest(calendar=SNAPSHOT, reason="cek", actor=ADMIN)
                change = case.recompute(state, request, now)
            else:
                continue
        except Refused:
            continue
        steps.append((state, change))
        state = change.state
    return case, steps


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=moves)
def test_clocks_chain_and_extensions_hold_through_any_sequence(plan: list[Any]) -> None:
    case, steps = _play(plan)
    chain: list[str] = []
    used_before: dict[tuple[str, int], timedelta] = {}
    for before, change in steps:
        state = change.state
        batch = change.batch
        assert batch is not None
        # The audit chain: gap-free, every hash the store would compute.
        assert [e.seq for e in batch.audit] == list(range(before.seq + 1, state.seq + 1))
        for entry in batch.audit:
            chain.append(entry_hash(chain[-1] if chain else "", state.registration_number, entry))
        assert list(state.hashes) == chain and batch.audit_hashes == tuple(chain[before.seq :])
        for clock in state.clocks:
            # Pauses never shorten: the deadline with pauses is never before the one without.
            due = CALENDAR.due_after_pauses(clock.opened_at, clock.base_due, clock.pauses)
            assert due is None or due >= clock.base_due
            at = batch.audit[-1].at
            used = CALENDAR.used_working_time(clock.opened_at, at, clock.pauses)
            assert timedelta(0) <= used <= CALENDAR.elapsed(clock.opened_at, at)
            # A pause stops the clock; it never takes back time already used (no reset).
            key = (clock.step_id, clock.attempt)
            assert used >= used_before.get(key, timedelta(0))
            used_before[key] = used
            # Extensions live on the clock: base_due is the deadline plus each of them.
            expected = CALENDAR.add(clock.opened_at, case.graph.task(clock.step_id).deadline)
            for extra in clock.extensions:
                expected = CALENDAR.add(expected, _parse(extra))
            assert clock.base_due == expected
        # A recompute with the same calendar changes no deadline: no extension is lost.
        if any(e.event == "deadlines_recomputed" for e in batch.audit):
            assert {c.step_id: c.base_due for c in state.clocks} == {
                c.step_id: c.base_due for c in before.clocks
            }
        service = state.service
        if service.pauses:
            last = service.pauses[-1][1] or service.pauses[-1][0]
            paused = CALENDAR.paused_working_time(service.started_at, last, service.pauses)
            assert CALENDAR.used_working_time(service.started_at, last, service.pauses) == (
                CALENDAR.elapsed(service.started_at, last) - paused
            )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=moves)
def test_the_simulator_pauses_the_service_clock_exactly_where_the_case_does(
    plan: list[Any],
) -> None:
    case, steps = _play(plan)
    app = Application(
        number=1,
        model=SimpleNamespace(stepper=case.stepper),  # type: ignore[arg-type]
        data={},
        rng=random.Random(0),
        submitted=0.0,
        budget=0.0,
    )
    for i, (_, change) in enumerate(steps):
        app.state = change.state.route
        app.finished = 1e9 if change.state.finished else None
        Simulation._service_clock(None, app, float(i))  # type: ignore[arg-type]
        opened = [p for p in change.state.service.pauses]
        assert len(app.pauses) == len(opened)
        assert (app.pauses[-1][1] is None if app.pauses else False) == change.state.service.paused


def _parse(extra: str) -> Any:
    from loket.calendar import WorkDuration

    return WorkDuration.parse(extra)
