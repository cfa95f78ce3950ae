"""Replays committed histories against the current workflow code: a change that would
break running applications (non-determinism) fails here before it ships.

``histories/<version>/`` holds the histories recorded by each workflow code version (see
record_histories.py); every one of them must replay. ``histories_broken/`` holds a history
edited to disagree with the code (a renamed activity): it must fail, or the test proves
nothing.

Production workers run workflow code unsandboxed (worker.workflow_runner); the corpus
replays under Temporal's sandbox as well, which keeps the sandbox's determinism guard (no
I/O, clock or randomness reached from workflow code) as a check on every change."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, WorkflowReplayResult

from loket.case.escalation import spread
from loket.temporal_codec import DATA_CONVERTER, ENCODING
from tests.workflow.record_histories import SPREAD_S
from worker import workflow_runner
from workflows.permit import PermitWorkflow

HERE = Path(__file__).resolve().parent
HISTORIES = sorted((HERE / "histories").glob("*/*.json"))
BROKEN = sorted((HERE / "histories_broken").glob("*.json"))


# Every version since the case core holds each permit type; v1 predates PTKA.
WITH_EVERY_TYPE = (
    "v2-case-core",
    "v3-paper",
    "v4-outbox",
    "v5-background",
    "v6-compressed",
    "v7-issue-in-one",
    "v8-escalation-spread",
)


def test_the_corpus_covers_versions_and_permit_types() -> None:
    versions = {p.parent.name for p in HISTORIES}
    assert {"v1-monolith", *WITH_EVERY_TYPE} <= versions
    for version in WITH_EVERY_TYPE:
        types = {p.stem.split("_")[0] for p in HISTORIES if p.parent.name == version}
        assert {"pbg", "sip", "ptka"} <= types
    assert BROKEN


def test_the_paper_corpus_walks_the_new_paths() -> None:
    """v3-paper holds the documents, the bank's payment, the applicant's channels and the
    issued permit: the commands those paths add are in its histories."""
    text = "".join(p.read_text(encoding="utf-8") for p in HISTORIES if p.parent.name == "v3-paper")
    for name in (
        "attach_document",
        "record_payment",
        "number_permit",
        "render_permit",
        "deliver_email",
        "deliver_phone",
    ):
        assert name in text, name
    # The two patches' markers (their ids are base64 inside the payloads).
    assert text.count("EVENT_TYPE_MARKER_RECORDED") >= 2


def test_the_outbox_corpus_starts_no_delivery_activity() -> None:
    """v4-outbox: notifications go out through the outbox dispatcher, so its histories hold
    no delivery activity, while v3-paper's do (they replay on the old path)."""
    v4 = [p for p in HISTORIES if p.parent.name == "v4-outbox"]
    assert {p.stem.split("_")[0] for p in v4} >= {"pbg", "sip", "ptka"}
    text = "".join(p.read_text(encoding="utf-8") for p in v4)
    assert "record_transition" in text and "render_permit" in text
    for name in ("deliver_notification", "deliver_email", "deliver_phone"):
        assert name not in text, name


def _scheduled(version: str) -> list[dict[str, Any]]:
    """The activityTaskScheduled attributes of every history ``version`` holds."""
    return [
        event["activityTaskScheduledEventAttributes"]
        for path in HISTORIES
        if path.parent.name == version
        for event in json.loads(path.read_text(encoding="utf-8"))["events"]
        if "activityTaskScheduledEventAttributes" in event
    ]


def test_the_background_corpus_records_escalations_at_background_priority() -> None:
    """v5-background: an escalation's record is scheduled at priority 4 behind its patch
    marker; every other activity keeps the default (no priority key)."""
    v5 = [p for p in HISTORIES if p.parent.name == "v5-background"]
    assert {p.stem.split("_")[0] for p in v5} >= {"pbg", "sip", "ptka"}
    keys = [a.get("priority", {}).get("priorityKey", 0) for a in _scheduled("v5-background")]
    assert keys.count(4) >= 1
    assert set(keys) == {0, 4}


def test_the_compressed_corpus_starts_with_a_deflated_input() -> None:
    """v6-compressed: recorded through Loket's wire codec, so every start input (the route
    version and calendar, about 23 KB of JSON) is stored deflated and replays through it."""
    v6 = [p for p in HISTORIES if p.parent.name == "v6-compressed"]
    assert {p.stem.split("_")[0] for p in v6} >= {"pbg", "sip", "ptka"}
    for path in v6:
        started = json.loads(path.read_text(encoding="utf-8"))["events"][0]
        payload = started["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
        assert base64.b64decode(payload["metadata"]["encoding"]) == ENCODING, path.name


def test_the_issue_in_one_corpus_issues_with_one_activity() -> None:
    """v7-issue-in-one: a permit is numbered, rendered and stored by one ``issue_permit``
    behind its patch marker; the older corpora keep the two activities."""
    for version, present, absent in (
        ("v7-issue-in-one", {"issue_permit"}, {"number_permit", "render_permit"}),
        ("v6-compressed", {"number_permit", "render_permit"}, {"issue_permit"}),
    ):
        names = {a["activityType"]["name"] for a in _scheduled(version)}
        assert present <= names and not absent & names, version


def test_the_spread_corpus_wakes_its_reminder_the_files_offset_late() -> None:
    """v8-escalation-spread: recorded with an escalation spread of SPREAD_S, so the reminder
    due 36 s after submission (1 % of a working hour) is timed that plus the file's offset;
    v7's, recorded before the spread, at the 36 s."""
    for version, window in (("v8-escalation-spread", SPREAD_S), ("v7-issue-in-one", 0)):
        path = HERE / "histories" / version / "pbg_reminded.json"
        events = json.loads(path.read_text(encoding="utf-8"))["events"]
        reg = events[0]["workflowExecutionStartedEventAttributes"]["workflowId"]
        first = next(e for e in events if "timerStartedEventAttributes" in e)
        timeout = float(first["timerStartedEventAttributes"]["startToFireTimeout"].rstrip("s"))
        expected = 36 + spread(reg, window).total_seconds()
        assert abs(timeout - expected) < 1, (version, timeout, expected)


async def _replay(path: Path, *, sandboxed: bool = False) -> WorkflowReplayResult:
    replayer = Replayer(
        workflows=[PermitWorkflow],
        data_converter=DATA_CONVERTER,
        workflow_runner=workflow_runner(sandboxed=sandboxed),
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


@pytest.mark.parametrize("sandboxed", [False, True], ids=["unsandboxed", "sandboxed"])
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_replay(path: Path, sandboxed: bool) -> None:
    result = await _replay(path, sandboxed=sandboxed)
    assert result.replay_failure is None


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
async def test_a_history_that_disagrees_with_the_code_fails_replay(path: Path) -> None:
    result = await _replay(path)
    assert result.replay_failure is not None
