"""Submission is idempotent: one key, one registration number, one access code, one
workflow, even when the start's answer is lost after the server took it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.services.submission import access_code_matches, submit_application
from loket.store import queries, submissions
from tests.support import SIP_FORM, eventually
from tests.workflow.support import open_tasks
from worker import build_worker

SECRET = b"test-secret"


class LostAnswer(Client):
    """The real client, whose first start reaches the server but whose answer is lost."""

    def __init__(self, client: Client) -> None:
        super().__init__(
            client.service_client, namespace=client.namespace, data_converter=client.data_converter
        )
        self.lost = 0

    async def start_workflow(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        handle = await super().start_workflow(*args, **kwargs)
        if self.lost == 0:
            self.lost += 1
            raise TimeoutError("deadline exceeded while waiting for the start's answer")
        return handle


async def _submit(
    client: Client,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar: CalendarSnapshot,
    task_queue: str,
    key: str,
) -> Any:
    return await submit_application(
        client=client,
        pool=pool,
        permit=catalog.permit("SIP"),
        calendar=calendar,
        form=SIP_FORM,
        task_queue=task_queue,
        now=datetime.now(UTC),
        idempotency_key=key,
        access_code_secret=SECRET,
    )


@pytest.mark.timeout(120)
async def test_a_retried_submission_is_the_first_one(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_ts_env.client
    async with build_worker(client, pool, task_queue):
        first = await _submit(client, pool, catalog, calendar_snapshot, task_queue, "k-1")
        again = await _submit(client, pool, catalog, calendar_snapshot, task_queue, "k-1")
        other = await _submit(client, pool, catalog, calendar_snapshot, task_queue, "k-2")
        assert first.created and not again.created and other.created
        assert again.registration_number == first.registration_number
        assert again.access_code == first.access_code != other.access_code
        assert other.registration_number != first.registration_number
        first_run = (await first.handle.describe()).run_id
        assert (await client.get_workflow_handle(first.registration_number).describe()).run_id == (
            first_run
        )
        await eventually(
            lambda: open_tasks(pool, first.registration_number), lambda s: s == ["registration"]
        )
        async with pool.acquire() as conn:
            stored = await submissions.access_code_hash(conn, first.registration_number)
            rows = await conn.fetchval(
                "SELECT count(*) FROM submissions WHERE registration_number = $1",
                first.registration_number,
            )
        assert access_code_matches(first.access_code, stored) and rows == 1


@pytest.mark.timeout(120)
async def test_a_start_whose_answer_is_lost_is_found_by_the_retry(
    temporal_ts_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_ts_env.client
    lossy = LostAnswer(client)
    async with build_worker(client, pool, task_queue):
        with pytest.raises(TimeoutError):
            await _submit(lossy, pool, catalog, calendar_snapshot, task_queue, "lost-1")
        retried = await _submit(lossy, pool, catalog, calendar_snapshot, task_queue, "lost-1")
        reg = retried.registration_number
        await eventually(lambda: open_tasks(pool, reg), lambda s: s == ["registration"])
        async with pool.acquire() as conn:
            # The access code still opens the file: nothing was deleted to compensate.
            assert access_code_matches(
                retried.access_code, await submissions.access_code_hash(conn, reg)
            )
            app = await queries.application(conn, reg)
        assert app is not None and app.status == "in_progress"
