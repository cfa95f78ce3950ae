"""No input wedges a case (issue 9): each input that once stopped an application for good is
refused with a code, and the case goes on. On the time-skipping server, real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.route.form import normalize
from loket.route.loader import Catalog
from loket.store.records import verify_audit_chain
from tests.support import PBG_FORM, SIP_FORM, eventually, refusal_code, refusal_params
from tests.workflow.support import (
    DLH,
    FRONT,
    SECRETARIAT,
    TPA,
    open_tasks,
    staff,
    submit_pbg,
)
from worker import build_worker
from workflows.messages import (
    Actor,
    ApplicationView,
    CancelRequest,
    DecisionRequest,
    ExtendRequest,
    PermitInput,
)

Handle = WorkflowHandle[Any, ApplicationView]
SUPERVISOR = Actor(username="sari", role="supervisor", agency="dpupr")
SUPERVISOR_FRONT = Actor(username="tika", role="supervisor", agency="dpmptsp")
ADMIN = Actor(username="admin", role="admin")
HEALTH = staff("nina", "dinkes/health_licensing")


async def _decide(handle: Handle, actor: Actor, step: str, outcome: str, note: str = "") -> Any:
    # A return at the completeness check names a document to upload again (10A).
    corrections = ("land_title",) if outcome == "return" and step == "completeness" else ()
    request = DecisionRequest(
        step_id=step, outcome=outcome, note=note, actor=actor, corrections=corrections
    )
    return await handle.execute_update("decide", request, result_type=ApplicationView)


async def _refused(call: Any) -> tuple[str, dict[str, Any]]:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await call
    return refusal_code(refused.value), refusal_params(refused.value)


async def _start_raw(
    client: Client,
    catalog: Catalog,
    calendar: CalendarSnapshot,
    task_queue: str,
    reg: str,
    data: dict[str, Any],
) -> Handle:
    """Start a case with data the API would have refused: the case core must hold anyway."""
    return await client.start_workflow(
        "PBG",
        PermitInput(
            registration_number=reg,
            permit=catalog.permit("PBG"),
            calendar=calendar,
            data=data,
            applicant=Actor(username=f"applicant:{reg}", role="applicant"),
            search_attributes=False,
        ),
        id=reg,
        task_queue=task_queue,
        result_type=ApplicationView,
    )


@pytest.mark.timeout(120)
async def test_text_with_a_nul_is_refused_and_the_case_goes_on(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = temporal_ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit_pbg(env.client, pool, catalog, calendar_snapshot, task_queue)
        handle = submitted.handle
        for bad in ("a\u0000b", "bell\u0007", "\u009b"):
            code, params = await _refused(_decide(handle, FRONT, "registration", "approve", bad))
            assert (code, params) == ("invalid_text", {"field": "note"})
        code, params = await _refused(
            handle.execute_update(
                "cancel",
                CancelRequest(reason="x\u0000yz", actor=ADMIN),
                result_type=ApplicationView,
            )
        )
        assert (code, params) == ("invalid_text", {"field": "reason"})
        view = await _decide(handle, FRONT, "registration", "approve", "baris 1\nbaris 2\tok")
        assert [s.step_id for s in view.open_steps] == ["completeness"]


@pytest.mark.timeout(120)
async def test_an_extension_past_the_calendar_is_refused_and_a_fitting_one_works(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = temporal_ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit_pbg(env.client, pool, catalog, calendar_snapshot, task_queue)
        handle = submitted.handle
        await _decide(handle, FRONT, "registration", "approve")

        def extend(extra: str) -> Any:
            return handle.execute_update(
                "extend_deadline",
                ExtendRequest(
                    step_id="completeness", extra=extra, reason="rapat", actor=SUPERVISOR
                ),
                result_type=ApplicationView,
            )

        code, params = await _refused(extend("300d"))
        assert code == "outside_calendar" and params["last_year"] == calendar_snapshot.last_year
        assert (await _refused(extend("soon")))[0] == "invalid_duration"
        view = await extend("1d")
        assert view.open_steps[0].step_id == "completeness"
        await _decide(handle, SECRETARIAT, "completeness", "approve")  # the case goes on


@pytest.mark.timeout(120)
async def test_a_fee_beyond_the_store_refuses_the_billing_decision_and_cancel_still_works(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = temporal_ts_env
    data = dict(normalize(catalog.permit("PBG"), PBG_FORM))
    data["fence_length_m"] = 1e20  # once accepted by the API: no maximum on the field
    reg = f"PBG-2026-{datetime.now(UTC).strftime('%H%M%S%f')}"
    async with build_worker(env.client, pool, task_queue):
        handle = await _start_raw(env.client, catalog, calendar_snapshot, task_queue, reg, data)
        await eventually(lambda: open_tasks(pool, reg), lambda s: s == ["registration"])
        await _decide(handle, FRONT, "registration", "approve")
        await _decide(handle, SECRETARIAT, "completeness", "approve")
        await _decide(handle, DLH, "environmental_review", "approve")
        # The last review opens the assessment step, whose bill would overflow bigint.
        code, params = await _refused(_decide(handle, TPA, "tpa_review", "approve"))
        assert (code, params) == ("amount_out_of_range", {"step_id": "assessment"})
        view = await handle.query("view", result_type=ApplicationView)
        assert [s.step_id for s in view.open_steps] == ["tpa_review"] and view.fees is None
        view = await handle.execute_update(
            "cancel",
            CancelRequest(reason="tarif tidak wajar", actor=ADMIN),
            result_type=ApplicationView,
        )
        assert view.status == "cancelled"
        assert (await handle.result()).status == "cancelled"
        async with pool.acquire() as conn:
            assert await verify_audit_chain(conn, reg) == []


@pytest.mark.timeout(120)
async def test_a_batch_the_store_refuses_for_good_undoes_the_change(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    """A value the case core cannot foresee the store refusing (here a CHECK constraint
    added for the test): the Update fails with store_refused, the case is as it was, and
    the next decision writes a gap-free chain."""
    env = temporal_ts_env
    async with pool.acquire() as conn:
        await conn.execute(
            "ALTER TABLE tasks ADD CONSTRAINT test_refuses CHECK (note IS DISTINCT FROM 'tolak')"
        )
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit_pbg(env.client, pool, catalog, calendar_snapshot, task_queue)
        reg, handle = submitted.registration_number, submitted.handle
        before = await handle.query("view", result_type=ApplicationView)
        code, _ = await _refused(_decide(handle, FRONT, "registration", "approve", "tolak"))
        assert code == "store_refused"
        after = await handle.query("view", result_type=ApplicationView)
        assert after == before
        view = await _decide(handle, FRONT, "registration", "approve", "lengkap")
        assert [s.step_id for s in view.open_steps] == ["completeness"]
        async with pool.acquire() as conn:
            seqs = [
                r["seq"]
                for r in await conn.fetch(
                    "SELECT seq FROM audit_events WHERE registration_number = $1 ORDER BY seq", reg
                )
            ]
            assert seqs == list(range(1, len(seqs) + 1)) and seqs[-1] == view.audit_seq
            assert await verify_audit_chain(conn, reg) == []
        chain = await handle.query("audit_chain", result_type=list[str])
        assert len(chain) == view.audit_seq and chain[-1] == view.audit_head


@pytest.mark.timeout(120)
async def test_a_blocked_store_never_blocks_answers_or_other_updates(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
    db_dsn: str,
) -> None:
    """While a batch cannot be written (its row is locked by another transaction) the case
    still answers queries and validators at once, accepts a second Update behind the
    first, and writes both in order once the store is back."""
    env = temporal_ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit_pbg(env.client, pool, catalog, calendar_snapshot, task_queue)
        reg, handle = submitted.registration_number, submitted.handle
        blocker = await asyncpg.connect(db_dsn)
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute(
                "SELECT 1 FROM applications WHERE registration_number = $1 FOR UPDATE", reg
            )
            decision = asyncio.create_task(_decide(handle, FRONT, "registration", "approve"))
            await eventually(
                lambda: handle.query("view", result_type=ApplicationView),
                lambda v: [s.step_id for s in v.open_steps] == ["completeness"],
            )
            code, _ = await asyncio.wait_for(
                _refused(_decide(handle, HEALTH, "completeness", "approve")), timeout=10
            )
            assert code == "not_your_counter"
            second = asyncio.create_task(
                _decide(handle, SECRETARIAT, "completeness", "return", "x")
            )
            await asyncio.sleep(0.5)
            assert not decision.done() and not second.done()
            await tx.rollback()
        finally:
            await blocker.close()
        _, second_view = await asyncio.wait_for(asyncio.gather(decision, second), 30)
        assert second_view.waiting_for_applicant
        async with pool.acquire() as conn:
            assert await verify_audit_chain(conn, reg) == []
        assert await open_tasks(pool, reg) == ["completeness"]


@pytest.mark.timeout(120)
async def test_sip_free_of_wedges_end_to_end(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    """Refusals of every kind on one file, then it finishes: nothing was left half-done."""
    from loket.services.submission import submit_application

    env = temporal_ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit_application(
            client=env.client,
            pool=pool,
            permit=catalog.permit("SIP"),
            calendar=calendar_snapshot,
            form=SIP_FORM,
            task_queue=task_queue,
            now=datetime.now(UTC),
        )
        handle = submitted.handle
        await eventually(
            lambda: open_tasks(pool, submitted.registration_number), lambda s: s == ["registration"]
        )
        assert (await _refused(_decide(handle, HEALTH, "registration", "approve")))[0] == (
            "not_your_counter"
        )
        assert (await _refused(_decide(handle, FRONT, "nope", "approve")))[0] == "unknown_step"
        await _decide(handle, FRONT, "registration", "approve")
        assert (await _refused(_decide(handle, FRONT, "registration", "approve")))[0] == (
            "already_decided"
        )
        await _decide(handle, HEALTH, "health_verification", "approve")
        issuance = staff("gita", "dpmptsp/issuance")
        await _decide(handle, issuance, "issuance", "approve")
        assert (await handle.result()).status == "approved"


@pytest.mark.timeout(120)
async def test_a_recompute_keeps_a_supervisors_extension(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    """Issue 8: an administrator's recompute once silently undid an extension."""
    from workflows.messages import RecomputeRequest

    env = temporal_ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit_pbg(env.client, pool, catalog, calendar_snapshot, task_queue)
        handle = submitted.handle
        opened = await handle.query("view", result_type=ApplicationView)
        extended = await handle.execute_update(
            "extend_deadline",
            ExtendRequest(
                step_id="registration", extra="2d", reason="rapat", actor=SUPERVISOR_FRONT
            ),
            result_type=ApplicationView,
        )
        assert extended.open_steps[0].due_at != opened.open_steps[0].due_at
        recomputed = await handle.execute_update(
            "recompute_deadlines",
            RecomputeRequest(calendar=calendar_snapshot, reason="SKB", actor=ADMIN),
            result_type=ApplicationView,
        )
        assert recomputed.open_steps[0].due_at == extended.open_steps[0].due_at
