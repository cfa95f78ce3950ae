"""Fault test: the webhook answers 500 for a while. Every notification is delivered once it
recovers, none twice, and the permit never waits for it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from tests.support import HttpServer, eventually
from tests.workflow.support import SECRETARIAT
from tests.workflow.test_deadlines_ts import WIB, open_completeness_at, skip_to, submit, ts_env  # noqa: F401
from worker import build_worker
from workflows.messages import ApplicationView, DecisionRequest

FAILING_REQUESTS = 5


class Webhook:
    """A real HTTP endpoint on loopback that fails its first requests, then recovers."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                with hook.lock:
                    hook.attempts[key] += 1
                    failing = sum(hook.attempts.values()) <= FAILING_REQUESTS
                    if not failing:
                        hook.accepted[key] += 1
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = HttpServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()


@pytest.mark.timeout(180)
async def test_notifications_survive_a_webhook_outage(
    ts_env: WorkflowEnvironment,  # noqa: F811
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
    webhook: Webhook,
) -> None:
    env = ts_env
    async with (
        httpx.AsyncClient() as http,
        build_worker(env.client, pool, task_queue, webhook_url=webhook.url, http=http),
    ):
        submitted = await submit(env, pool, catalog, calendar_snapshot, task_queue)
        reg = submitted.registration_number
        await open_completeness_at(env, submitted, datetime(2027, 2, 1, 10, 0, tzinfo=WIB))
        # Past the whole ladder of completeness (due Thu 4 Feb; +2 working days = Tue 9 Feb).
        await skip_to(env, datetime(2027, 2, 10, 12, 0, tzinfo=WIB))
        # The permit moves on while deliveries are still failing.
        view = await submitted.handle.execute_update(
            "decide",
            DecisionRequest(step_id="completeness", outcome="approve", actor=SECRETARIAT),
            result_type=ApplicationView,
        )
        assert {s.step_id for s in view.open_steps} == {"tpa_review", "environmental_review"}

        async def outbox() -> list[asyncpg.Record]:
            return await pool.fetch(
                "SELECT key, attempts, delivered_at FROM notification_outbox"
                # Applicant notices go by their own channels (tests/notify), not the webhook.
                " WHERE registration_number = $1 AND recipient <> 'applicant'",
                reg,
            )

        rows = await eventually(
            outbox,
            lambda rs: len(rs) >= 6 and all(r["delivered_at"] for r in rs),
            within_s=120,
            every_s=0.5,
        )
    keys = {r["key"] for r in rows}
    assert set(webhook.accepted) == keys  # every notification delivered...
    assert all(n == 1 for n in webhook.accepted.values())  # ...exactly once
    assert sum(webhook.attempts.values()) == len(keys) + FAILING_REQUESTS
    assert sum(r["attempts"] for r in rows) == len(keys) + FAILING_REQUESTS
    await submitted.handle.terminate("test done")
