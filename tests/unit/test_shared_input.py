"""The workflow's input decoded with shared route versions and calendars
(``loket.case.shared``) is the input the data converter decodes, value for value, and
inputs pinned to the same content share one decoded copy."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload

from loket.case.messages import PermitInput
from loket.case.shared import permit_input_from_json
from loket.temporal_codec import DATA_CONVERTER, decompress
from tests.unit.test_case_properties import APPLICANT, PBG, SNAPSHOT, _play, moves

CONVERTER = DATA_CONVERTER.payload_converter
HISTORIES = sorted(
    (Path(__file__).resolve().parents[1] / "workflow" / "histories").glob("*/*.json")
)


def _start_payloads() -> list[Payload]:
    payloads = []
    for path in HISTORIES:
        events = json.loads(path.read_text(encoding="utf-8"))["events"]
        started = events[0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
        metadata = {k: base64.b64decode(v) for k, v in started["metadata"].items()}
        # Recorded since the wire codec (v6 on) deflated: as a worker receives it.
        payloads.append(
            decompress(Payload(metadata=metadata, data=base64.b64decode(started["data"])))
        )
    return payloads


def test_every_recorded_input_decodes_as_the_converter_decodes_it() -> None:
    payloads = _start_payloads()
    assert len(payloads) >= 19
    for payload in payloads:
        assert payload.metadata["encoding"] == b"json/plain"
        assert permit_input_from_json(payload.data) == CONVERTER.from_payload(payload, PermitInput)


def test_inputs_pinned_to_the_same_content_share_one_route_version_and_calendar() -> None:
    payload = CONVERTER.to_payload(_input(None))
    first, second = permit_input_from_json(payload.data), permit_input_from_json(payload.data)
    assert first.permit is second.permit
    assert first.calendar is second.calendar
    assert first.data is not second.data  # per-case parts stay the case's own


def test_a_route_version_edited_without_a_version_bump_is_not_shared() -> None:
    edited = PBG.model_copy(update={"description": PBG.description + " (edited)"})
    original = permit_input_from_json(CONVERTER.to_payload(_input(None)).data)
    changed = permit_input_from_json(
        CONVERTER.to_payload(_input(None).model_copy(update={"permit": edited})).data
    )
    assert original.permit.key == changed.permit.key
    assert original.permit is not changed.permit
    assert changed.permit.description.endswith("(edited)")


def test_a_malformed_input_is_refused_naming_the_field() -> None:
    raw = json.loads(CONVERTER.to_payload(_input(None)).data)
    raw["registration_number"] = 7
    with pytest.raises(ValidationError) as caught:
        permit_input_from_json(json.dumps(raw).encode())
    assert caught.value.errors()[0]["loc"] == ("registration_number",)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=moves)
def test_a_continued_case_decodes_its_carried_state_unchanged(plan: list[Any]) -> None:
    _, steps = _play(plan)
    carried = _input(steps[-1][1].state)
    payload = CONVERTER.to_payload(carried)
    assert permit_input_from_json(payload.data) == CONVERTER.from_payload(payload, PermitInput)


def _input(state: Any) -> PermitInput:
    return PermitInput(
        registration_number="PBG-2026-000001",
        permit=PBG,
        calendar=SNAPSHOT,
        data={"building_area_m2": 80, "owner_name": "Siti", "corner": True, "ratio": 0.5},
        applicant=APPLICANT,
        state=state,
    )
