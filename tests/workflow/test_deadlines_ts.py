"""Working-time deadlines, stop-the-clock and the escalation ladder, on the time-skipping
server with the real Blora calendar and a real PostgreSQL.

Expected instants are worked out by hand in the comments from the 2027 holiday list
(Nyepi 8 Mar, cuti bersama 9, 12 and 15 Mar around Idul Fitri 10-11 Mar; cuti bersama
5 Feb before Imlek) and the office hours (Mon-Thu 08:00-16:00, Fri 08:00-16:30 WIB).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket import search_attributes as sa
from loket.calendar import CalendarSnapshot, Holiday
from loket.case.escalation import spread
from loket.route.loader import Catalog
from loket.services.submission import Submitted
from loket.temporal_codec import DATA_CONVERTER
from tests.support import eventually
from tests.workflow.support import FRONT, SECRETARIAT, submit_pbg
from worker import build_worker
from workflows.messages import (
    Actor,
    ApplicationView,
    DecisionRequest,
    ExtendRequest,
    RecomputeRequest,
    ResubmitRequest,
)
from workflows.shell import RECORD_ACTIVITY

WIB = timezone(timedelta(hours=7))
TOLERANCE = timedelta(seconds=2)  # the update that opens a step lands a few ms after t0
SPREAD_S = 240  # the shipped default: each file's rules fire a fixed offset after the instant
SUPERVISOR = Actor(username="sari", role="supervisor", agency="dpupr")

pytestmark = pytest.mark.timeout(180)


@pytest_asyncio.fixture(loop_scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of its own: each test moves its clock months ahead."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(services.temporal_test_server_path()),
        data_converter=DATA_CONVERTER,
    )
    async with env:
        await services.register_search_attributes(env.client, env.client.namespace)
        yield env


async def submit(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar: CalendarSnapshot,
    task_queue: str,
) -> Submitted:
    """A PBG submitted at the test server's own (skipped-ahead) time, its escalations
    spread over SPREAD_S."""
    now = await env.get_current_time()
    return await submit_pbg(
        env.client, pool, catalog, calendar, task_queue, now=now, escalation_spread_s=SPREAD_S
    )


async def skip_to(env: WorkflowEnvironment, instant: datetime) -> None:
    now = await env.get_current_time()
    assert instant > now, f"{instant} is in the test server's past ({now})"
    await env.sleep(instant - now)


async def open_completeness_at(
    env: WorkflowEnvironment, submitted: Submitted, t0: datetime
) -> None:
    await skip_to(env, t0)
    await submitted.handle.execute_update(
        "decide",
        DecisionRequest(step_id="registration", outcome="approve", actor=FRONT),
        result_type=ApplicationView,
    )


async def escalations(pool: asyncpg.Pool, reg: str, step: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT at, details FROM audit_events WHERE registration_number = $1 AND step_id = $2"
        " AND event = 'step_escalated' ORDER BY seq",
        reg,
        step,
    )
    return [{"at": r["at"], **r["details"]} for r in rows]


async def due_at(pool: asyncpg.Pool, reg: str, step: str) -> datetime:
    value = await pool.fetchval(
        "SELECT due_at FROM tasks WHERE registration_number = $1 AND step_id = $2", reg, step
    )
    assert isinstance(value, datetime)
    return value


def close(actual: datetime | str, expected: datetime) -> bool:
    if isinstance(actual, str):
        actual = datetime.fromisoformat(actual)
    return abs(actual - expected) <= TOLERANCE


async def test_ladder_fires_at_the_working_instants_around_idul_fitri(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit(env, pool, catalog, calendar_snapshot, task_queue)
        reg = submitted.registration_number
        # Completeness (3 working days) opens Thursday 4 March 2027, 10:00 WIB.
        await open_completeness_at(env, submitted, datetime(2027, 3, 4, 10, 0, tzinfo=WIB))
        # Working days: Fri 5, then Mon 8 Nyepi, 9 cuti, 10-11 Idul Fitri, 12 and 15 cuti:
        # Tue 16 is day 2, Wed 17 day 3. Budget Thu 10:00 -> Wed 17 10:00 = 6 + 8.5 + 8 + 2 h.
        due = datetime(2027, 3, 17, 10, 0, tzinfo=WIB)
        assert close(await due_at(pool, reg, "completeness"), due)
        remind = datetime(2027, 3, 16, 11, 52, 30, tzinfo=WIB)  # 75% of 24.5 h = 18 h 22 m 30 s
        inspectorate = datetime(2027, 3, 19, 10, 0, tzinfo=WIB)  # 2 working days after due

        await skip_to(env, remind - timedelta(minutes=1))
        assert await escalations(pool, reg, "completeness") == []
        await skip_to(env, inspectorate + timedelta(hours=1))
        fired = await eventually(
            lambda: escalations(pool, reg, "completeness"), lambda rows: len(rows) == 3
        )
        expected = [
            (remind, "remind", "counter:dpupr/pbg_secretariat", 1),
            (due, "notify", "head:dpupr", 2),
            (inspectorate, "escalate", "inspectorate", 3),
        ]
        for row, (instant, action, recipient, level) in zip(fired, expected, strict=True):
            assert close(row["scheduled_at"], instant), (row, instant)
            # Recorded when the file's timer woke: the instant plus the file's own spread.
            assert close(row["at"], instant + spread(reg, SPREAD_S)), (row, instant)
            assert (row["action"], row["recipient"], row["level"]) == (action, recipient, level)

        view = await submitted.handle.query("view", result_type=ApplicationView)
        assert view.open_steps[0].escalation_level == 3
        attributes = (await submitted.handle.describe()).typed_search_attributes
        assert attributes.get(sa.ESCALATION_LEVEL) == 3  # `LoketEscalationLevel >= 3` finds it
        level = await pool.fetchval(
            "SELECT escalation_level FROM tasks WHERE registration_number = $1 AND step_id = 'completeness'",
            reg,
        )
        assert level == 3
        outbox = await eventually(
            lambda: pool.fetch(
                "SELECT key, delivered_at FROM notification_outbox WHERE key LIKE $1 ORDER BY key",
                f"{reg}:completeness:%",
            ),
            lambda rows: len(rows) == 3 and all(r["delivered_at"] for r in rows),
        )
        assert [r["key"] for r in outbox] == [f"{reg}:completeness:1:{i}" for i in range(3)]
        # The escalations' records ran at background priority, the staff's at the default.
        records = await record_priorities(submitted)
        assert {p for summary, p in records if "step_escalated" in summary} == {4}
        assert {p for summary, p in records if "step_escalated" not in summary} == {0}
        assert sum("step_escalated" in summary for summary, _ in records) >= 3
        await submitted.handle.terminate("test done")


async def record_priorities(submitted: Submitted) -> list[tuple[str, int]]:
    """Every record activity scheduled: its summary (the events it writes) and its
    priority key (0: unset, the default)."""
    history = await submitted.handle.fetch_history()
    return [
        (json.loads(event.user_metadata.summary.data), attributes.priority.priority_key)
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and (attributes := event.activity_task_scheduled_event_attributes).activity_type.name
        == RECORD_ACTIVITY
    ]


async def test_return_for_ten_days_shifts_the_deadline_by_the_paused_working_time(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit(env, pool, catalog, calendar_snapshot, task_queue)
        reg = submitted.registration_number
        # Opens Monday 1 Feb 2027 10:00; 3 working days: due Thursday 4 Feb 10:00.
        await open_completeness_at(env, submitted, datetime(2027, 2, 1, 10, 0, tzinfo=WIB))
        assert close(
            await due_at(pool, reg, "completeness"), datetime(2027, 2, 4, 10, 0, tzinfo=WIB)
        )
        # Returned Tuesday 2 Feb 10:00 (8 h used), resubmitted 10 calendar days later.
        await skip_to(env, datetime(2027, 2, 2, 10, 0, tzinfo=WIB))
        await submitted.handle.execute_update(
            "decide",
            DecisionRequest(
                step_id="completeness",
                outcome="return",
                note="lengkapi",
                actor=SECRETARIAT,
                corrections=("land_title",),  # 10A: the return names the items
            ),
            result_type=ApplicationView,
        )
        paused = await submitted.handle.query("view", result_type=ApplicationView)
        assert paused.open_steps[0].due_at is None  # paused: no deadline runs
        # The permit's 28-day service time ran out in January: a late pause moves nothing.
        assert (
            paused.service_due_at is not None
            and paused.service_due_at < paused.open_steps[0].opened_at
        )
        await skip_to(env, datetime(2027, 2, 12, 10, 0, tzinfo=WIB))
        applicant = Actor(username=f"applicant:{reg}", role="applicant")
        await submitted.handle.execute_update(
            "resubmit", ResubmitRequest(actor=applicant), result_type=ApplicationView
        )
        # Paused working time: Tue 6 h, Wed 8, Thu 8, (Fri 5 Feb cuti), Mon-Thu 4 x 8, Fri 2 h
        # = 56 h. Thu 4 Feb 10:00 + 56 working hours = Tue 16 Feb 09:30.
        assert close(
            await due_at(pool, reg, "completeness"), datetime(2027, 2, 16, 9, 30, tzinfo=WIB)
        )
        events = [
            r["event"]
            for r in await pool.fetch(
                "SELECT event FROM audit_events WHERE registration_number = $1 ORDER BY seq", reg
            )
        ]
        assert events.count("clock_paused") == 1 and events.count("clock_resumed") == 1
        await submitted.handle.terminate("test done")


async def test_an_extension_moves_the_pending_timers(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit(env, pool, catalog, calendar_snapshot, task_queue)
        reg = submitted.registration_number
        await open_completeness_at(env, submitted, datetime(2027, 2, 1, 10, 0, tzinfo=WIB))
        view = await submitted.handle.execute_update(
            "extend_deadline",
            ExtendRequest(
                step_id="completeness", extra="2d", reason="site visit needed", actor=SUPERVISOR
            ),
            result_type=ApplicationView,
        )
        # Thu 4 Feb 10:00 + 2 working days (Fri 5 Feb is cuti bersama): Tue 9 Feb 10:00.
        new_due = datetime(2027, 2, 9, 10, 0, tzinfo=WIB)
        assert view.open_steps[0].due_at is not None and close(view.open_steps[0].due_at, new_due)
        await skip_to(env, datetime(2027, 2, 4, 12, 0, tzinfo=WIB))  # past the old deadline
        assert not [
            e for e in await escalations(pool, reg, "completeness") if e["action"] == "notify"
        ]
        await skip_to(env, new_due + timedelta(minutes=5))
        fired = await eventually(
            lambda: escalations(pool, reg, "completeness"),
            lambda rows: any(r["action"] == "notify" for r in rows),
        )
        notify = next(r for r in fired if r["action"] == "notify")
        assert close(notify["scheduled_at"], new_due)
        assert close(notify["at"], new_due + spread(reg, SPREAD_S))
        extended = await pool.fetchval(
            "SELECT details FROM audit_events WHERE registration_number = $1 AND event = 'deadline_extended'",
            reg,
        )
        assert extended["reason"] == "site visit needed" and extended["extra"] == "2d"
        await submitted.handle.terminate("test done")


async def test_a_new_calendar_moves_deadlines_only_when_an_administrator_recomputes(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    env = ts_env
    async with build_worker(env.client, pool, task_queue):
        submitted = await submit(env, pool, catalog, calendar_snapshot, task_queue)
        reg = submitted.registration_number
        await open_completeness_at(env, submitted, datetime(2027, 2, 1, 10, 0, tzinfo=WIB))
        due = datetime(2027, 2, 4, 10, 0, tzinfo=WIB)
        assert close(await due_at(pool, reg, "completeness"), due)
        # A revised decree adds a day off on Wednesday 3 February 2027.
        revised = CalendarSnapshot.model_validate(
            {
                **calendar_snapshot.model_dump(exclude={"version"}),
                "holidays": {
                    **calendar_snapshot.holidays,
                    date(2027, 2, 3): Holiday(name="Cuti bersama tambahan", kind="cuti_bersama"),
                },
            }
        )
        assert revised.version != calendar_snapshot.version
        # New applications would use it; this one keeps its pinned calendar until asked.
        view = await submitted.handle.query("view", result_type=ApplicationView)
        assert view.calendar_version == calendar_snapshot.version
        admin = Actor(username="admin", role="admin")
        view = await submitted.handle.execute_update(
            "recompute_deadlines",
            RecomputeRequest(calendar=revised, reason="SKB revised", actor=admin),
            result_type=ApplicationView,
        )
        assert view.calendar_version == revised.version
        # Wed 3 Feb is off now, Fri 5 Feb was already cuti bersama: due Monday 8 Feb 10:00.
        assert close(
            await due_at(pool, reg, "completeness"), datetime(2027, 2, 8, 10, 0, tzinfo=WIB)
        )
        details = await pool.fetchval(
            "SELECT details FROM audit_events WHERE registration_number = $1"
            " AND event = 'deadlines_recomputed'",
            reg,
        )
        assert details["calendar_before"] == calendar_snapshot.version
        assert details["calendar_after"] == revised.version
        assert details["reason"] == "SKB revised"
        await submitted.handle.terminate("test done")
