"""The outbox dispatcher against real PostgreSQL and a real HTTP webhook: several
dispatchers at once deliver every row exactly once; a dead dispatcher's claim is taken over
when its lease runs out; a failing webhook is tried again with backoff; rows of workflows
from before the dispatcher (no dispatch_at) are left to their activities."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import asyncpg
import httpx
import pytest

from activities.channels import ChannelActivities
from activities.dispatcher import Backoff, DispatcherConfig, OutboxDispatcher
from activities.notify import NotifyActivities
from loket.store.db import create_pool
from tests.support import HttpServer, eventually
from worker import channel_config


class Hook:
    """Answers 500 to the first ``failing`` requests, then 204 after ``delay_s``."""

    def __init__(self, failing: int = 0, delay_s: float = 0.0) -> None:
        self.accepted: Counter[str] = Counter()
        self.requests = 0
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(delay_s)
                with hook.lock:
                    hook.requests += 1
                    ok = hook.requests > failing
                    if ok:
                        hook.accepted[body["key"]] += 1
                self.send_response(204 if ok else 500)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = HttpServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@contextlib.contextmanager
def serving(hook: Hook) -> Iterator[Hook]:
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()


@pytest.fixture
async def db(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_dsn, max_size=12)  # the product's (jsonb codecs)
    try:
        yield pool
    finally:
        await pool.close()


async def add_rows(pool: asyncpg.Pool, n: int, *, dispatch: bool = True) -> list[str]:
    keys = [f"ESC-2026-{i:06d}:step_escalated:1" for i in range(n)]
    await pool.executemany(
        "INSERT INTO notification_outbox (key, registration_number, kind, recipient, payload,"
        " created_at, dispatch_at) VALUES ($1, $2, 'step_escalated', 'staff:x', '{}', $3,"
        " CASE WHEN $4 THEN now() END)",
        [(k, k.split(":")[0], datetime.now(UTC), dispatch) for k in keys],
    )
    return keys


@contextlib.asynccontextmanager
async def dispatchers(
    pool: asyncpg.Pool, http: httpx.AsyncClient, url: str, n: int, config: DispatcherConfig
) -> AsyncIterator[list[asyncio.Task[None]]]:
    notify = NotifyActivities(pool, url, http)
    channels = ChannelActivities(pool, channel_config(), http)
    tasks = [
        asyncio.create_task(OutboxDispatcher(pool, notify, channels, config).run())
        for _ in range(n)
    ]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def undelivered(pool: asyncpg.Pool) -> int:
    return int(
        await pool.fetchval("SELECT count(*) FROM notification_outbox WHERE delivered_at IS NULL")
    )


@pytest.mark.timeout(120)
async def test_three_dispatchers_deliver_every_row_once(db: asyncpg.Pool) -> None:
    keys = await add_rows(db, 60)
    config = DispatcherConfig(concurrency=8, poll_s=0.2, lease_s=30)
    with serving(Hook(delay_s=0.05)) as hook:
        async with httpx.AsyncClient() as http, dispatchers(db, http, hook.url, 3, config):
            await eventually(lambda: undelivered(db), lambda n: n == 0, within_s=60)
    assert hook.accepted == dict.fromkeys(keys, 1)
    assert hook.requests == len(keys)
    attempts = await db.fetch("SELECT attempts, dispatch_attempts FROM notification_outbox")
    # Each claim made one delivery attempt (no row claimed by two dispatchers at once), and
    # the hook accepted each key once. A row may have needed a second attempt after a
    # transport failure: a retry, not a duplicate.
    assert all(r["attempts"] == r["dispatch_attempts"] for r in attempts)
    assert sum(r["attempts"] for r in attempts) <= len(keys) + 3


@pytest.mark.timeout(120)
async def test_a_failing_webhook_is_tried_again_and_rows_before_the_patch_are_left(
    db: asyncpg.Pool,
) -> None:
    keys = await add_rows(db, 3)
    legacy = "OLD-2026-000001:step_escalated:1"
    await db.execute(
        "INSERT INTO notification_outbox (key, registration_number, kind, recipient, payload,"
        " created_at) VALUES ($1, 'OLD-2026-000001', 'step_escalated', 'staff:x', '{}', now())",
        legacy,
    )
    config = DispatcherConfig(poll_s=0.1, webhook=Backoff(initial_s=0.2, maximum_s=1.0))
    with serving(Hook(failing=4)) as hook:
        async with httpx.AsyncClient() as http, dispatchers(db, http, hook.url, 1, config):
            await eventually(lambda: undelivered(db), lambda n: n == 1, within_s=60)
    assert hook.accepted == dict.fromkeys(keys, 1)
    assert hook.requests == len(keys) + 4
    rows = await db.fetch("SELECT key, attempts, delivered_at FROM notification_outbox")
    assert sum(r["attempts"] for r in rows) == len(keys) + 4
    assert {r["key"] for r in rows if r["delivered_at"] is None} == {legacy}


@pytest.mark.timeout(120)
async def test_a_dead_dispatchers_claim_is_taken_over_after_its_lease(db: asyncpg.Pool) -> None:
    (key,) = await add_rows(db, 1)
    # A dispatcher claimed the row and died: its lease runs out in 1 s.
    await db.execute(
        "UPDATE notification_outbox SET claimed_until = now() + interval '1 second',"
        " dispatch_attempts = 1 WHERE key = $1",
        key,
    )
    config = DispatcherConfig(poll_s=0.1)
    with serving(Hook()) as hook:
        async with httpx.AsyncClient() as http, dispatchers(db, http, hook.url, 2, config):
            await asyncio.sleep(0.6)
            assert hook.requests == 0  # the live claim is respected
            await eventually(lambda: undelivered(db), lambda n: n == 0, within_s=30)
    assert hook.accepted == {key: 1}
    assert await db.fetchval("SELECT dispatch_attempts FROM notification_outbox") == 2


@pytest.mark.timeout(60)
async def test_an_applicant_notice_without_a_contact_is_skipped_on_both_channels(
    db: asyncpg.Pool,
) -> None:
    key = "SIP-2026-000001:application_received:1"
    await db.execute(
        "INSERT INTO notification_outbox (key, registration_number, kind, recipient, payload,"
        " created_at, dispatch_at) VALUES ($1, 'SIP-2026-000001', 'application_received',"
        " 'applicant', '{}', now(), now())",
        key,
    )
    with serving(Hook()) as hook:
        async with (
            httpx.AsyncClient() as http,
            dispatchers(db, http, hook.url, 1, DispatcherConfig(poll_s=0.1)),
        ):
            await eventually(lambda: undelivered(db), lambda n: n == 0, within_s=30)
    rows = await db.fetch("SELECT channel, state FROM notification_deliveries WHERE key = $1", key)
    assert {r["channel"]: r["state"] for r in rows} == {"email": "skipped", "phone": "skipped"}
    assert hook.requests == 0  # an applicant notice never goes to the staff webhook
