"""The deadline loop's spread (issue 13, the morning after Lebaran): each file wakes a fixed
offset after its rule's instant, so files counting from one office opening do not all fire
at once. Never early, never the window late, the same for a file on every worker."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from loket.calendar import calendar_for
from loket.calendar_data import covered_years, load_calendar
from loket.case import escalation
from loket.case.core import Case
from loket.case.escalation import spread
from loket.case.messages import Actor
from loket.route.form import normalize
from loket.route.loader import load_catalog
from loket.settings import Settings
from tests.support import PBG_FORM

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"

REGISTRATIONS = st.from_regex(r"[A-Z]{3,4}-20[0-9]{2}-[0-9]{6}", fullmatch=True)


@given(REGISTRATIONS, st.integers(min_value=1, max_value=3600))
def test_a_file_wakes_inside_the_window_at_the_same_offset_every_time(
    reg: str, window_s: int
) -> None:
    offset = spread(reg, window_s)
    assert timedelta(0) <= offset < timedelta(seconds=window_s)
    assert spread(reg, window_s) == offset


@given(REGISTRATIONS)
def test_no_window_wakes_at_the_instant(reg: str) -> None:
    assert spread(reg, 0) == timedelta(0)


def test_files_received_together_spread_evenly_over_the_window() -> None:
    """5,000 registration numbers in sequence, as one holiday's online submissions: every
    tenth of the window gets its share (within a fifth of it), so no minute carries a storm."""
    window = timedelta(seconds=240)
    offsets = [spread(f"PBG-2027-{n:06d}", 240) for n in range(1, 5001)]
    tenths = Counter(int(o / window * 10) for o in offsets)
    assert sorted(tenths) == list(range(10))
    assert all(400 <= count <= 600 for count in tenths.values()), tenths
    assert len(set(offsets)) > 4990  # to the microsecond: hardly two files share a wake-up


@pytest.mark.parametrize("value", ["-1", "3601", "four minutes"])
def test_the_setting_refuses_a_window_the_workflow_input_would(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setting and the workflow input share one bound (``EscalationSpread``): a worker
    never receives a window the input refuses."""
    monkeypatch.setenv("LOKET_ESCALATION_SPREAD_S", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert [e["loc"] for e in caught.value.errors()] == [("escalation_spread_s",)]


def test_a_rule_wakes_the_deadline_loop_its_files_offset_after_its_instant() -> None:
    permit = load_catalog(DEFINITIONS).permit("PBG")
    calendar = calendar_for(load_calendar(DEFINITIONS, *covered_years(DEFINITIONS)))
    case = Case(permit, calendar)
    start = datetime(2027, 2, 1, 3, 0, tzinfo=UTC)  # Monday 1 Feb 2027 10:00 WIB
    applicant = Actor(username="applicant:x", role="applicant")
    reg = "PBG-2027-000123"
    state = case.start(reg, normalize(permit, PBG_FORM), applicant, start).state
    due = escalation.next_due(case, state)
    assert due is not None and due[1] >= 0  # PBG's first step: an escalation rule
    step_id, index, instant = due
    assert escalation.next_due(case, state, 240) == (step_id, index, instant + spread(reg, 240))
