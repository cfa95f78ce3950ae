"""The complaint route (definitions/complaints/complaint.yaml) on the time-skipping server,
the real calendar and a real PostgreSQL: forwarded within 3 working days, answered within
5, closed on its own 10 working days after the answer (the on_deadline policy), unless the
complainant reopens it first.

Instants by hand (2027, cuti bersama Fri 5 Feb before Imlek): filed Mon 1 Feb 10:00 WIB,
forward due Thu 4 Feb 10:00; forwarded Tue 2 Feb 10:00, answer due Wed 3, Thu 4, (Fri 5
cuti), Mon 8, Tue 9, Wed 10 Feb 10:00; answered Wed 3 Feb 10:00, closing due Thu 4, Mon 8-Fri
12, Mon 15-Thu 18 Feb 10:00.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket.calendar import CalendarSnapshot
from loket.case.applicant_choice import ApplicantChoiceRequest
from loket.route.loader import Catalog
from loket.services.submission import Submitted, submit_application
from loket.temporal_codec import DATA_CONVERTER
from tests.support import eventually, refusal_code
from tests.workflow.support import DLH, open_tasks, staff
from worker import build_worker
from workflows.messages import Actor, ApplicationView, DecisionRequest

WIB = timezone(timedelta(hours=7))
TOLERANCE = timedelta(seconds=2)
DESK = staff("wati", "dpmptsp/complaints")
FORM = {"subject": "Berkas PBG tidak ada kabar", "description": "Sudah tiga minggu."}

pytestmark = pytest.mark.timeout(180)


@pytest_asyncio.fixture(loop_scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(services.temporal_test_server_path()),
        data_converter=DATA_CONVERTER,
    )
    async with env:
        await services.register_search_attributes(env.client, env.client.namespace)
        yield env


async def skip_to(env: WorkflowEnvironment, instant: datetime) -> None:
    now = await env.get_current_time()
    assert instant > now, f"{instant} is in the test server's past ({now})"
    await env.sleep(instant - now)


def close(actual: datetime | None, expected: datetime) -> bool:
    return actual is not None and abs(actual - expected) <= TOLERANCE


async def task(pool: asyncpg.Pool, reg: str, step: str, attempt: int = 1) -> dict[str, Any]:
    row = await pool.fetchrow(
        "SELECT state, due_at, outcome, decided_by, note FROM tasks"
        " WHERE registration_number = $1 AND step_id = $2 AND attempt = $3",
        reg,
        step,
        attempt,
    )
    assert row is not None, (reg, step, attempt)
    return dict(row)


async def decide(
    submitted: Submitted, step: str, outcome: str, actor: Actor, note: str = ""
) -> None:
    await submitted.handle.execute_update(
        "decide",
        DecisionRequest(step_id=step, outcome=outcome, note=note, actor=actor),
        result_type=ApplicationView,
    )


async def answered_complaint(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar: CalendarSnapshot,
    task_queue: str,
) -> Submitted:
    """Filed Mon 1 Feb, forwarded to DLH Tue 2 Feb, answered Wed 3 Feb 2027, 10:00 WIB; the
    forward and answer deadlines checked on the way."""
    await skip_to(env, datetime(2027, 2, 1, 10, 0, tzinfo=WIB))
    submitted = await submit_application(
        client=env.client,
        pool=pool,
        permit=catalog.complaints["ADU"],
        calendar=calendar,
        form=FORM,
        task_queue=task_queue,
        now=await env.get_current_time(),
    )
    reg = submitted.registration_number
    assert reg.startswith("ADU-2027-")
    await eventually(lambda: open_tasks(pool, reg), lambda s: s == ["forward"])
    forward = await task(pool, reg, "forward")
    assert close(forward["due_at"], datetime(2027, 2, 4, 10, 0, tzinfo=WIB))

    await skip_to(env, datetime(2027, 2, 2, 10, 0, tzinfo=WIB))
    await decide(submitted, "forward", "to_dlh", DESK)
    answer = await task(pool, reg, "answer_dlh")
    assert close(answer["due_at"], datetime(2027, 2, 10, 10, 0, tzinfo=WIB))

    await skip_to(env, datetime(2027, 2, 3, 10, 0, tzinfo=WIB))
    await decide(submitted, "answer_dlh", "answer", DLH, note="Kajian selesai 5 Februari.")
    closing = await task(pool, reg, "closing")
    assert close(closing["due_at"], datetime(2027, 2, 18, 10, 0, tzinfo=WIB))
    return submitted


async def test_an_answered_complaint_closes_itself_ten_working_days_after_the_answer(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await answered_complaint(env, pool, catalog, calendar_snapshot, task_queue)
        reg = submitted.registration_number
        due = datetime(2027, 2, 18, 10, 0, tzinfo=WIB)
        await skip_to(env, due - timedelta(minutes=5))
        assert await open_tasks(pool, reg) == ["closing"]

        await skip_to(env, due + timedelta(minutes=5))
        view = await submitted.handle.result()
        assert view.status == "approved" and close(view.finished_at, due)
        closing = await task(pool, reg, "closing")
        assert (closing["state"], closing["outcome"], closing["decided_by"]) == (
            "done",
            "close",
            "loket",
        )
        row = await pool.fetchrow(
            "SELECT at, actor, details FROM audit_events"
            " WHERE registration_number = $1 AND event = 'step_decided_on_deadline'",
            reg,
        )
        assert row is not None and close(row["at"], due) and row["actor"] == "loket"
        assert row["details"]["outcome"] == "close"
        assert "Permenpan RB 62/2018" in row["details"]["legal_basis"]
        # An automatic close is not a deemed approval: no supervision, no supervisor notice.
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM supervision_tasks WHERE registration_number = $1", reg
            )
            == 0
        )


async def test_the_complainant_reopens_before_the_close_and_it_goes_back_to_the_desk(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await answered_complaint(env, pool, catalog, calendar_snapshot, task_queue)
        reg = submitted.registration_number
        complainant = Actor(username=f"applicant:{reg}", role="applicant")
        # Staff cannot reopen on the complainant's behalf through this Update, and the
        # complainant cannot close.
        with pytest.raises(WorkflowUpdateFailedError) as by_staff:
            await submitted.handle.execute_update(
                "applicant_choose",
                ApplicantChoiceRequest(step_id="closing", outcome="reopen", actor=DESK),
                result_type=ApplicationView,
            )
        assert refusal_code(by_staff.value) == "wrong_role"
        with pytest.raises(WorkflowUpdateFailedError) as closing_self:
            await submitted.handle.execute_update(
                "applicant_choose",
                ApplicantChoiceRequest(step_id="closing", outcome="close", actor=complainant),
                result_type=ApplicationView,
            )
        assert refusal_code(closing_self.value) == "not_applicant_outcome"

        # Reopened Fri 12 Feb, before the close on Thu 18 Feb.
        await skip_to(env, datetime(2027, 2, 12, 10, 0, tzinfo=WIB))
        await submitted.handle.execute_update(
            "applicant_choose",
            ApplicantChoiceRequest(
                step_id="closing", outcome="reopen", note="Belum terjawab", actor=complainant
            ),
            result_type=ApplicationView,
        )
        assert await open_tasks(pool, reg) == ["forward"]
        closing = await task(pool, reg, "closing")
        assert (closing["state"], closing["outcome"], closing["decided_by"]) == (
            "done",
            "reopen",
            f"applicant:{reg}",
        )
        # Forwarded again within 3 working days of the reopening: Mon 15, Tue 16, Wed 17.
        again = await task(pool, reg, "forward", attempt=2)
        assert close(again["due_at"], datetime(2027, 2, 17, 10, 0, tzinfo=WIB))
        # Past the first close deadline nothing closes: the file is back at the desk.
        await skip_to(env, datetime(2027, 2, 18, 11, 0, tzinfo=WIB))
        assert await open_tasks(pool, reg) == ["forward"]
        view = await submitted.handle.query("view", result_type=ApplicationView)
        assert view.status == "in_progress"
        await submitted.handle.terminate("test done")


async def test_a_complaint_left_at_the_desk_escalates_like_any_step(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        await skip_to(env, datetime(2027, 2, 1, 10, 0, tzinfo=WIB))
        submitted = await submit_application(
            client=env.client,
            pool=pool,
            permit=catalog.complaints["ADU"],
            calendar=calendar_snapshot,
            form=FORM,
            task_queue=task_queue,
            now=await env.get_current_time(),
        )
        reg = submitted.registration_number
        await eventually(lambda: open_tasks(pool, reg), lambda s: s == ["forward"])
        # Due Thu 4 Feb 10:00; two working days after it (Fri 5 cuti): Tue 9 Feb 10:00.
        await skip_to(env, datetime(2027, 2, 9, 11, 0, tzinfo=WIB))
        rows = await eventually(
            lambda: pool.fetch(
                "SELECT action, recipient, level FROM escalations"
                " WHERE registration_number = $1 AND step_id = 'forward' ORDER BY level",
                reg,
            ),
            lambda rows: len(rows) == 3,
        )
        assert [(r["action"], r["recipient"], r["level"]) for r in rows] == [
            ("remind", "counter:dpmptsp/complaints", 1),
            ("notify", "head:dpmptsp", 2),
            ("escalate", "inspectorate", 3),
        ]
        # Escalation is not an outcome: the complaint still waits at the desk.
        assert await open_tasks(pool, reg) == ["forward"]
        await submitted.handle.terminate("test done")
