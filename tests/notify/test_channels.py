"""The channel activities on their own (Temporal's ActivityEnvironment), against a real
database, a real SMTP server and a real local gateway: the claim, the final states, what a
retry after success does, and the record-only and no-contact cases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.channels import ChannelActivities, ChannelConfig
from loket.contact import ContactIn
from loket.notify.templates import load_templates
from loket.notify.transports import GatewayConfig, SmtpConfig
from loket.settings import PROJECT_ROOT
from loket.store.contacts import record_contact, settle
from loket.store.submissions import register
from tests.notify.support import CONTACT_IN, EMAIL, PHONE, TOKEN, Gateway, SmtpSink

REG = "SIP-2026-000777"
KEY = f"{REG}:application_received:1"
TEMPLATES = load_templates(PROJECT_ROOT / "definitions")


async def seed(pool: asyncpg.Pool, contact: ContactIn | None) -> None:
    async with pool.acquire() as conn:
        await register(conn, f"seed:{REG}", "SIP", 2026, "0" * 64)
        await conn.execute(
            "UPDATE submissions SET registration_number = $1 WHERE idempotency_key = $2",
            REG,
            f"seed:{REG}",
        )
        await record_contact(conn, REG, contact, datetime.now(UTC))
        await conn.execute(
            "INSERT INTO notification_outbox (key, registration_number, kind, recipient, payload,"
            " created_at) VALUES ($1, $2, 'application_received', 'applicant', $3, now())",
            KEY,
            REG,
            {"registration_number": REG, "permit_type": "SIP"},
        )


def config(smtp: SmtpSink | None, gateway: Gateway | None, lease_s: float = 4.0) -> ChannelConfig:
    return ChannelConfig(
        templates=TEMPLATES,
        smtp=SmtpConfig(host="127.0.0.1", port=smtp.port) if smtp else SmtpConfig(),
        gateway=GatewayConfig(url=gateway.url, token=TOKEN) if gateway else GatewayConfig(),
        base_url="https://loket.blorakab.go.id",
        lease_s=lease_s,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def states(pool: asyncpg.Pool) -> dict[str, tuple[str, int]]:
    rows = await pool.fetch(
        "SELECT channel, state, attempts FROM notification_deliveries WHERE key = $1", KEY
    )
    return {r["channel"]: (r["state"], r["attempts"]) for r in rows}


async def test_a_delivered_notice_is_not_sent_again_by_a_retry(
    pool: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    await seed(pool, ContactIn(**CONTACT_IN))
    with SmtpSink() as smtp, Gateway() as gateway:
        channels = ChannelActivities(pool, config(smtp, gateway), http)
        env = ActivityEnvironment()
        assert await env.run(channels.deliver_email, KEY) == "sent"
        assert await env.run(channels.deliver_phone, KEY) == "sent"
        # What Temporal does when an answer is lost after the send: run it again.
        assert await env.run(channels.deliver_email, KEY) == "sent"
        assert await env.run(channels.deliver_phone, KEY) == "sent"
    assert smtp.keys() == {KEY: 1}
    assert [r["key"] for r in gateway.requests] == [KEY]
    assert gateway.requests[0]["to"] == PHONE and smtp.messages[0]["To"] == EMAIL
    assert await states(pool) == {"email": ("sent", 1), "phone": ("sent", 1)}
    delivered = await pool.fetchval(
        "SELECT delivered_at FROM notification_outbox WHERE key = $1", KEY
    )
    assert delivered is not None


async def test_a_live_claim_keeps_a_second_attempt_from_sending(
    pool: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    await seed(pool, ContactIn(**CONTACT_IN))
    with SmtpSink(hold_first=True) as smtp:
        channels = ChannelActivities(pool, config(smtp, None, lease_s=30), http)
        first = asyncio.create_task(ActivityEnvironment().run(channels.deliver_email, KEY))
        while not smtp.held.is_set():
            await asyncio.sleep(0.05)
        # A second attempt while the first is still sending: refused, to be retried later.
        with pytest.raises(ApplicationError, match="claimed by another attempt"):
            await ActivityEnvironment().run(channels.deliver_email, KEY)
        smtp.release.set()
        assert await first == "sent"
    assert smtp.keys() == {KEY: 1}
    assert (await states(pool))["email"] == ("sent", 1)


async def test_a_gateway_refusing_for_good_is_recorded_as_failed(
    pool: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    await seed(pool, ContactIn(**CONTACT_IN))
    with Gateway() as gateway:
        wrong = ChannelConfig(
            templates=TEMPLATES,
            smtp=SmtpConfig(),
            gateway=GatewayConfig(url=gateway.url, token="wrong-token"),
            base_url="",
        )
        channels = ChannelActivities(pool, wrong, http)
        # 401 is not worth retrying: failed at once, no exception (the workflow moves on).
        assert await ActivityEnvironment().run(channels.deliver_phone, KEY) == "failed"
        # Nothing configured for e-mail: the row says "recorded", like the webhook does.
        assert await ActivityEnvironment().run(channels.deliver_email, KEY) == "recorded"
    rows = await pool.fetch(
        "SELECT channel, state, last_error FROM notification_deliveries WHERE key = $1", KEY
    )
    assert {r["channel"]: (r["state"], r["last_error"]) for r in rows} == {
        "phone": ("failed", "HTTP 401"),
        "email": ("recorded", "no provider configured"),
    }


async def test_no_contact_or_no_consent_sends_nothing(
    pool: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    # Without consent nothing is stored (the form refuses it; record_contact skips it).
    await seed(pool, ContactIn(email=EMAIL, consent=True).model_copy(update={"consent": False}))
    assert await pool.fetchval("SELECT count(*) FROM applicant_contacts") == 0
    with SmtpSink() as smtp, Gateway() as gateway:
        channels = ChannelActivities(pool, config(smtp, gateway), http)
        assert await ActivityEnvironment().run(channels.deliver_email, KEY) == "skipped"
        assert await ActivityEnvironment().run(channels.deliver_phone, KEY) == "skipped"
    assert smtp.messages == [] and gateway.requests == []
    assert await states(pool) == {"email": ("skipped", 1), "phone": ("skipped", 1)}


async def test_a_notice_no_template_can_render_fails_at_once(
    pool: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    await seed(pool, ContactIn(**CONTACT_IN))
    await pool.execute("UPDATE notification_outbox SET kind = 'fee_billed' WHERE key = $1", KEY)
    with SmtpSink() as smtp:
        channels = ChannelActivities(pool, config(smtp, None), http)
        # fee_billed without amount, billing code or pay-by date: failed, not retried.
        assert await ActivityEnvironment().run(channels.deliver_email, KEY) == "failed"
    assert smtp.messages == []
    error = await pool.fetchval(
        "SELECT last_error FROM notification_deliveries WHERE key = $1", KEY
    )
    assert error.startswith("template: fee_billed:") and "amount" in error


async def test_channels_settling_together_mark_the_notice_delivered(pool: asyncpg.Pool) -> None:
    """Both channels finish at the same moment, each in its own transaction: the last one
    must still see the other's row (the outbox row is locked first)."""
    await seed(pool, None)
    keys = [f"{REG}:application_approved:{seq}" for seq in range(2, 42)]
    await pool.executemany(
        "INSERT INTO notification_outbox (key, registration_number, kind, recipient, payload,"
        " created_at) VALUES ($1, $2, 'application_approved', 'applicant', '{}', now())",
        [(k, REG) for k in keys],
    )

    async def finish(key: str, channel: str) -> None:
        async with pool.acquire() as conn:
            await settle(conn, key, channel, "sent")

    await asyncio.gather(*(finish(k, c) for k in keys for c in ("email", "phone")))
    pending = await pool.fetchval(
        "SELECT count(*) FROM notification_outbox WHERE key = ANY($1::text[])"
        " AND delivered_at IS NULL",
        keys,
    )
    assert pending == 0
