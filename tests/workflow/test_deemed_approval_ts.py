"""Deemed approval (fiktif positif) on the time-skipping server, the real Blora calendar and
a real PostgreSQL: a complete application undecided at the step's working-time deadline is
approved by the case core, across the Idul Fitri 2027 holidays; a file waiting on the
applicant is not.

2027: Nyepi Mon 8 Mar, cuti bersama 9, 12 and 15 Mar around Idul Fitri 10-11 Mar. A step of
3 working days opened Fri 5 Mar 10:00 WIB counts Tue 16 (1), Wed 17 (2), Thu 18 (3): due Thu
18 Mar 10:00 WIB (a count of weekdays alone would say Wed 10 Mar).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog, load_permit
from loket.route.model import PermitType
from loket.services.submission import Submitted, submit_application
from loket.store import queries
from loket.temporal_codec import DATA_CONVERTER
from tests.support import eventually
from tests.workflow.support import FRONT, TPA, open_tasks
from worker import build_worker
from workflows.messages import Actor, ApplicationView, DecisionRequest, ResubmitRequest

WIB = timezone(timedelta(hours=7))
TOLERANCE = timedelta(seconds=2)
ROUTE = Path(__file__).parent / "policy_routes" / "deemed.yaml"
BASIS = "UU 30/2014 ps. 53 sebagaimana diubah UU 6/2023"

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


@pytest.fixture(scope="module")
def deemed_route(catalog: Catalog) -> PermitType:
    permit, errors = load_permit(ROUTE, catalog.agencies)
    assert permit is not None, errors
    return permit


async def skip_to(env: WorkflowEnvironment, instant: datetime) -> None:
    now = await env.get_current_time()
    assert instant > now, f"{instant} is in the test server's past ({now})"
    await env.sleep(instant - now)


async def start_review_at(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    permit: PermitType,
    calendar: CalendarSnapshot,
    task_queue: str,
    t0: datetime,
) -> Submitted:
    submitted = await submit_application(
        client=env.client,
        pool=pool,
        permit=permit,
        calendar=calendar,
        form={},
        task_queue=task_queue,
        now=await env.get_current_time(),
        # An hour's escalation spread (issue 13): a deemed approval is never spread, so the
        # tests below still find it taken at the deadline itself.
        escalation_spread_s=3600,
    )
    reg = submitted.registration_number
    await eventually(lambda: open_tasks(pool, reg), lambda s: s == ["intake"])
    await skip_to(env, t0)
    await submitted.handle.execute_update(
        "decide",
        DecisionRequest(step_id="intake", outcome="approve", actor=FRONT),
        result_type=ApplicationView,
    )
    return submitted


async def events(pool: asyncpg.Pool, reg: str, event: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT at, actor, step_id, details FROM audit_events"
        " WHERE registration_number = $1 AND event = $2 ORDER BY seq",
        reg,
        event,
    )
    return [
        {"at": r["at"], "actor": r["actor"], "step_id": r["step_id"], **r["details"]} for r in rows
    ]


def close(actual: datetime | str, expected: datetime) -> bool:
    if isinstance(actual, str):
        actual = datetime.fromisoformat(actual)
    return abs(actual - expected) <= TOLERANCE


async def test_undecided_review_is_deemed_approved_at_its_working_deadline_after_idul_fitri(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    deemed_route: PermitType,
    calendar_snapshot: CalendarSnapshot,
    catalog: Catalog,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        t0 = datetime(2027, 3, 5, 10, 0, tzinfo=WIB)
        submitted = await start_review_at(
            env, pool, deemed_route, calendar_snapshot, task_queue, t0
        )
        reg = submitted.registration_number
        due = datetime(2027, 3, 18, 10, 0, tzinfo=WIB)
        # Past the naive count (Wed 10 Mar) and through the holidays: still undecided, open.
        await skip_to(env, due - timedelta(minutes=5))
        assert await open_tasks(pool, reg) == ["review"]
        assert await events(pool, reg, "step_deemed_approved") == []

        await skip_to(env, due + timedelta(minutes=5))
        (deemed,) = await eventually(
            lambda: events(pool, reg, "step_deemed_approved"), lambda rows: len(rows) == 1
        )
        assert close(deemed["at"], due) and close(deemed["due_at"], due)
        assert (deemed["actor"], deemed["step_id"]) == ("loket", "review")
        assert (deemed["legal_basis"], deemed["outcome"], deemed["agency"]) == (
            BASIS,
            "approve",
            "dpupr",
        )
        # The route moved on exactly as for approve.
        await eventually(lambda: open_tasks(pool, reg), lambda s: s == ["issuance"])
        task = await pool.fetchrow(
            "SELECT state, outcome, decided_by, note FROM tasks"
            " WHERE registration_number = $1 AND step_id = 'review'",
            reg,
        )
        assert dict(task) == {
            "state": "done",
            "outcome": "approve",
            "decided_by": "loket",
            "note": BASIS,
        }
        (decided,) = [
            e for e in await events(pool, reg, "step_decided") if e["step_id"] == "review"
        ]
        assert decided["outcome"] == "approve" and decided["actor"] == "loket"
        # The supervisor is told through the outbox, like an escalation.
        outbox = await pool.fetchrow(
            "SELECT kind, recipient, payload FROM notification_outbox WHERE key = $1",
            f"{reg}:review:1:deemed_approval",
        )
        assert outbox is not None
        assert (outbox["kind"], outbox["recipient"]) == ("deemed_approval", "supervisor:dpupr")
        assert outbox["payload"]["legal_basis"] == BASIS
        # A post-issue supervision task opens at the step's agency, from the audit entry.
        supervision = await pool.fetchrow(
            "SELECT agency, counter, legal_basis, deemed_at, closed_at FROM supervision_tasks"
            " WHERE registration_number = $1 AND step_id = 'review' AND attempt = 1",
            reg,
        )
        assert supervision is not None
        assert (supervision["agency"], supervision["counter"]) == ("dpupr", "tpa")
        assert supervision["legal_basis"] == BASIS and supervision["closed_at"] is None
        assert close(supervision["deemed_at"], due)
        # The applicant's tracking shows it, with its basis.
        async with pool.acquire() as conn:
            tracking = await queries.tracking(conn, catalog, reg)
        assert tracking is not None
        shown = [e for e in tracking.history if e.event == "step_deemed_approved"]
        assert [(e.step_id, e.reason, e.by) for e in shown] == [("review", BASIS, "system")]
        await submitted.handle.terminate("test done")


async def test_a_file_waiting_on_the_applicant_is_not_deemed_approved(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    deemed_route: PermitType,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        # Opens Mon 1 Feb 2027 10:00: 3 working days, due Thu 4 Feb 10:00.
        t0 = datetime(2027, 2, 1, 10, 0, tzinfo=WIB)
        submitted = await start_review_at(
            env, pool, deemed_route, calendar_snapshot, task_queue, t0
        )
        reg = submitted.registration_number
        # Returned Tue 2 Feb 10:00 (one working day used), so the file is incomplete.
        await skip_to(env, datetime(2027, 2, 2, 10, 0, tzinfo=WIB))
        await submitted.handle.execute_update(
            "decide",
            DecisionRequest(step_id="review", outcome="return", note="lengkapi", actor=TPA),
            result_type=ApplicationView,
        )
        await skip_to(env, datetime(2027, 2, 10, 10, 0, tzinfo=WIB))
        assert await events(pool, reg, "step_deemed_approved") == []
        assert await open_tasks(pool, reg) == ["review"]
        # Resubmitted Wed 10 Feb 10:00: the pause (Tue 6 h, Wed 8, Thu 8, Fri 5 Feb cuti, Mon 8,
        # Tue 8, Wed 2 = 40 working hours) moves the due Thu 4 Feb 10:00 to Fri 12 Feb 10:00.
        applicant = Actor(username=f"applicant:{reg}", role="applicant")
        await submitted.handle.execute_update(
            "resubmit", ResubmitRequest(actor=applicant), result_type=ApplicationView
        )
        due = datetime(2027, 2, 12, 10, 0, tzinfo=WIB)
        await skip_to(env, due - timedelta(minutes=5))
        assert await events(pool, reg, "step_deemed_approved") == []
        await skip_to(env, due + timedelta(minutes=5))
        (deemed,) = await eventually(
            lambda: events(pool, reg, "step_deemed_approved"), lambda rows: len(rows) == 1
        )
        assert close(deemed["due_at"], due), deemed
        await submitted.handle.terminate("test done")
