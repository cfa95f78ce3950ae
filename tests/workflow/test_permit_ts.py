"""The permit workflow on the time-skipping server, writing to a real PostgreSQL."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.store.records import verify_audit_chain
from tests.support import eventually, refusal_code, refusal_params
from tests.workflow.support import (
    DLH,
    FRONT,
    ISSUANCE,
    RETRIBUTION,
    SECRETARIAT,
    TELLER,
    TPA,
    open_tasks,
    staff,
    submit_pbg,
)
from worker import build_worker
from workflows.messages import (
    Actor,
    ApplicationView,
    ClaimRequest,
    DecisionRequest,
    ResubmitRequest,
)


async def update_events(handle: Any) -> int:
    """Update events in history. (The time-skipping server still logs a workflow task for a
    rejected update; the dev server test checks that the history does not grow at all.)"""
    history = await handle.fetch_history()
    return sum(
        1
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    )


@pytest.mark.timeout(120)
async def test_pbg_runs_end_to_end_with_return_and_parallel_reviews(
    temporal_ts_env_fresh: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = temporal_ts_env_fresh
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit_pbg(env.client, pool, catalog, calendar_snapshot, task_queue)
        reg, handle = submitted.registration_number, submitted.handle
        assert reg.startswith("PBG-")

        async def decide(
            actor: Actor,
            step: str,
            outcome: str,
            note: str = "",
            receipt: str | None = None,
            corrections: tuple[str, ...] = (),
        ) -> ApplicationView:
            request = DecisionRequest(
                step_id=step,
                outcome=outcome,
                note=note,
                actor=actor,
                receipt_number=receipt,
                corrections=corrections,
            )
            return await handle.execute_update("decide", request, result_type=ApplicationView)

        view = await handle.query("view", result_type=ApplicationView)
        assert [s.step_id for s in view.open_steps] == ["registration"]

        # Wrong counter, wrong step, unknown outcome: refused with a reason, no history.
        before = await update_events(handle)
        for actor, step, outcome, code in [
            (TPA, "registration", "approve", "not_your_counter"),
            (SECRETARIAT, "completeness", "approve", "step_not_open"),
            (FRONT, "completeness", "approve", "not_your_counter"),
            (FRONT, "registration", "stamp", "unknown_outcome"),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await decide(actor, step, outcome)
            assert refusal_code(refused.value) == code
        assert await update_events(handle) == before

        await handle.execute_update(
            "claim", ClaimRequest(step_id="registration", actor=FRONT), result_type=ApplicationView
        )
        with pytest.raises(WorkflowUpdateFailedError) as claimed:
            await decide(staff("other", "dpmptsp/front_office"), "registration", "approve")
        assert refusal_code(claimed.value) == "claimed_by_other"
        assert refusal_params(claimed.value)["claimed_by"] == "rina"

        view = await decide(FRONT, "registration", "approve", "berkas lengkap")
        assert [s.step_id for s in view.open_steps] == ["completeness"]
        assert await open_tasks(pool, reg) == ["completeness"]

        # The completeness check names the document to upload again (10A).
        view = await decide(
            SECRETARIAT,
            "completeness",
            "return",
            "gambar struktur kurang",
            corrections=("architecture_drawings",),
        )
        assert view.waiting_for_applicant and view.open_steps[0].state == "returned"
        with pytest.raises(WorkflowUpdateFailedError) as waiting:
            await decide(SECRETARIAT, "completeness", "approve")
        assert refusal_code(waiting.value) == "waiting_for_applicant"

        applicant = Actor(username=f"applicant:{reg}", role="applicant")
        view = await handle.execute_update(
            "resubmit",
            ResubmitRequest(actor=applicant, note="gambar dilengkapi"),
            result_type=ApplicationView,
        )
        assert view.open_steps[0].state == "open" and view.open_steps[0].attempt == 1

        view = await decide(SECRETARIAT, "completeness", "approve")
        assert sorted(s.step_id for s in view.open_steps) == ["environmental_review", "tpa_review"]
        view = await decide(TPA, "tpa_review", "approve")
        assert [s.step_id for s in view.open_steps] == ["environmental_review"]  # join waits
        view = await decide(DLH, "environmental_review", "approve")
        assert [s.step_id for s in view.open_steps] == ["assessment"]
        assert view.fees is not None and view.fees.total > 0
        view = await decide(RETRIBUTION, "assessment", "approve")
        assert [s.step_id for s in view.open_steps] == ["payment"] and view.waiting_for_applicant
        # The bill is open: the teller's approval needs the SSRD's number (billing).
        with pytest.raises(WorkflowUpdateFailedError) as no_receipt:
            await decide(TELLER, "payment", "approve")
        assert refusal_code(no_receipt.value) == "receipt_number_required"
        view = await decide(TELLER, "payment", "approve", receipt="SSRD 2026/001")
        view = await decide(ISSUANCE, "issuance", "approve")
        assert view.status == "approved"

        result = await handle.result()
        assert result.status == "approved"

    rows = await pool.fetch(
        "SELECT step_id, attempt, state, outcome FROM tasks WHERE registration_number = $1 ORDER BY id",
        reg,
    )
    assert [(r["step_id"], r["state"], r["outcome"]) for r in rows] == [
        ("registration", "done", "approve"),
        ("completeness", "done", "approve"),
        ("tpa_review", "done", "approve"),
        ("environmental_review", "done", "approve"),
        ("assessment", "done", "approve"),
        ("payment", "done", "approve"),
        ("issuance", "done", "approve"),
    ]
    app = await pool.fetchrow("SELECT * FROM applications WHERE registration_number = $1", reg)
    assert app["status"] == "approved" and app["fee_total"] == view.fees.total  # type: ignore[union-attr]
    events = [
        r["event"]
        for r in await pool.fetch(
            "SELECT event FROM audit_events WHERE registration_number = $1 ORDER BY seq", reg
        )
    ]
    assert events[0] == "application_submitted" and events[-1] == "application_finished"
    assert {
        "step_returned",
        "clock_paused",
        "step_resumed",
        "task_claimed",
        "step_skipped",
        "branches_forked",
        "branches_joined",
        "fees_assessed",
        "fee_billed",
        "payment_received",
    } <= set(events)
    async with pool.acquire() as conn:
        assert await verify_audit_chain(conn, reg) == []


async def test_corrections_are_checked_against_the_pinned_form(
    temporal_ts_env_fresh: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = temporal_ts_env_fresh
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit_pbg(env.client, pool, catalog, calendar_snapshot, task_queue)
        reg, handle = submitted.registration_number, submitted.handle
        await handle.execute_update(
            "decide",
            DecisionRequest(step_id="registration", outcome="return", actor=FRONT),
            result_type=ApplicationView,
        )
        applicant = Actor(username=f"applicant:{reg}", role="applicant")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                "resubmit",
                ResubmitRequest(actor=applicant, data={"floors": 0}),
                result_type=ApplicationView,
            )
        assert refusal_code(refused.value) == "invalid_form"
        assert refusal_params(refused.value)["fields"] == ["floors"]
        view = await handle.execute_update(
            "resubmit",
            ResubmitRequest(actor=applicant, data={"floors": 3, "building_area_m2": 700}),
            result_type=ApplicationView,
        )
        assert view.open_steps[0].state == "open"
        data = await eventually(
            lambda: pool.fetchval(
                "SELECT data FROM applications WHERE registration_number = $1", reg
            ),
            lambda d: d["floors"] == 3,
        )
        assert data["building_area_m2"] == 700.0 and data["fence_length_m"] == 20.0
        corrected = await pool.fetchval(
            "SELECT details FROM audit_events WHERE registration_number = $1"
            " AND event = 'application_corrected'",
            reg,
        )
        assert corrected["fields"] == ["building_area_m2", "floors"]
        await handle.terminate("test done")
