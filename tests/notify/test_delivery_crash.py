"""Fault test: the worker process is killed with SIGKILL while it delivers an applicant
notice on both channels, and started again. Still one message per event and channel.

E-mail: the kill lands while the SMTP server holds the session before DATA, so the server
never took the message; the next attempt (after the claim's lease) sends it once.
Gateway: the kill lands after the gateway took the message and before it answered (the
window no sender can close alone); the next attempt sends again with the same
Idempotency-Key and the gateway, as documented, keeps one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.contact import ContactIn
from loket.route.loader import Catalog
from loket.services.submission import submit_application
from tests.notify.support import CONTACT_IN, Gateway, SmtpSink, channel_env
from tests.support import SIP_FORM, eventually
from tests.workflow.test_worker_crash import drive
from workflows.messages import ApplicationView

pytestmark = [pytest.mark.devserver, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def start_worker(
    address: str, dsn: str, task_queue: str, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")],
        env={
            **os.environ,
            "DATABASE_URL": dsn,
            "LOKET_TEMPORAL_ADDRESS": address,
            "LOKET_TEMPORAL_TASK_QUEUE": task_queue,
            **env,
        },
        cwd=ROOT,
    )


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()


@pytest.mark.timeout(240)
async def test_worker_killed_mid_delivery_sends_one_message_per_channel(
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    db_dsn: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
) -> None:
    client = temporal_dev_env.client
    address = client.service_client.config.target_host
    with SmtpSink(hold_first=True) as smtp, Gateway(hold_first=True) as gateway:
        env = channel_env(smtp, gateway)
        worker = start_worker(address, db_dsn, task_queue, env)
        try:
            submitted = await submit_application(
                client=client,
                pool=pool,
                permit=catalog.permit("SIP"),
                calendar=calendar_snapshot,
                form=SIP_FORM,
                task_queue=task_queue,
                now=datetime.now(UTC),
                contact=ContactIn(**CONTACT_IN),
            )
            reg = submitted.registration_number
            # Both channels are in the middle of delivering "received": kill the worker.
            await eventually(lambda: asyncio.sleep(0, smtp.held.is_set()), bool, within_s=60)
            await eventually(lambda: asyncio.sleep(0, gateway.held.is_set()), bool, within_s=60)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            smtp.release.set()
            gateway.release.set()
            worker = start_worker(address, db_dsn, task_queue, env)
            await asyncio.wait_for(drive(client, reg), timeout=120)
            handle = client.get_workflow_handle(reg, result_type=ApplicationView)
            assert (await asyncio.wait_for(handle.result(), timeout=120)).status == "approved"
            # The restarted worker's outbox dispatcher takes the killed one's rows over
            # once their lease ran out.
            await eventually(
                lambda: pool.fetch(
                    "SELECT delivered_at FROM notification_outbox"
                    " WHERE registration_number = $1 AND recipient = 'applicant'",
                    reg,
                ),
                lambda rows: bool(rows) and all(r["delivered_at"] for r in rows),
                within_s=90,
            )
        finally:
            stop(worker)

    received = f"{reg}:application_received:1"
    keys = [
        r["key"]
        for r in await pool.fetch(
            "SELECT key FROM notification_outbox WHERE registration_number = $1"
            " AND recipient = 'applicant' ORDER BY created_at, key",
            reg,
        )
    ]
    assert keys[0] == received
    assert any(k.startswith(f"{reg}:application_approved:") for k in keys)
    assert smtp.keys() == dict.fromkeys(keys, 1)
    assert smtp.sessions > len(keys)  # the held session was abandoned and retried
    assert sorted(gateway.accepted) == sorted(keys)
    assert sum(r["key"] == received for r in gateway.requests) >= 2  # resent, deduplicated
    rows = await pool.fetch(
        "SELECT channel, state, attempts FROM notification_deliveries WHERE key = $1", received
    )
    assert {r["channel"]: r["state"] for r in rows} == {"email": "sent", "phone": "sent"}
    assert all(r["attempts"] >= 2 for r in rows)
