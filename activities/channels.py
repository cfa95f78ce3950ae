"""Channel adapters for applicant notices: e-mail over SMTP, WhatsApp/SMS through an HTTP
gateway. The outbox dispatcher (activities/dispatcher.py) calls ``deliver`` for every
applicant notice; workflows from before it start one activity per channel instead.

Exactly one message per event and channel, as far as a sender can promise it:
1. the attempt claims the (key, channel) row ('sending', a lease) before it sends; a live
   claim held by another attempt makes this one retry later, a final state ends it;
2. it sends with the event key as the e-mail's Message-ID and the gateway's
   Idempotency-Key, within the lease;
3. it records the outcome. The window: a worker dying after the provider took the message
   and before step 3 commits leaves a claim that runs out, and the next attempt sends
   again with the same Message-ID / Idempotency-Key. A gateway that honours the key (the
   documented shape) drops it; an SMTP server delivers a second copy with the same
   Message-ID (mail clients show it once). The window is the provider's answer plus one
   UPDATE, milliseconds.

A failing provider never holds up the permit: the workflow does not wait for these
activities except at its very end, and the last allowed attempt records 'failed' and
returns instead of raising. Contact data is read here, at delivery, and never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from loket import metrics
from loket.case.notices import APPLICANT
from loket.contact import Channel
from loket.notify.templates import NoticeTemplates, Rendered, TemplateProblem
from loket.notify.transports import GatewayConfig, Outcome, SmtpConfig, send_email, send_gateway
from loket.store import contacts
from loket.store.contacts import FINAL

log = logging.getLogger(__name__)

EMAIL_ACTIVITY = "deliver_email"
PHONE_ACTIVITY = "deliver_phone"
HEARTBEAT_EVERY_S = 1.0


@dataclass(frozen=True)
class ChannelConfig:
    templates: NoticeTemplates
    smtp: SmtpConfig
    gateway: GatewayConfig
    base_url: str
    lease_s: float = 60.0


@contextlib.asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    """Heartbeat while sending, so a dead worker's attempt is retried within the
    heartbeat timeout instead of the whole start-to-close timeout."""

    if not activity.in_activity():  # the outbox dispatcher: its lease covers the send
        yield
        return

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_EVERY_S)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _last_attempt() -> bool:
    info = activity.info()
    policy = info.retry_policy
    return policy is not None and 0 < policy.maximum_attempts <= info.attempt


class ChannelActivities:
    def __init__(self, pool: asyncpg.Pool, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self._pool = pool
        self._config = config
        self._http = http

    # One activity per channel and notice: workflows from before the outbox dispatcher.
    @activity.defn(name=EMAIL_ACTIVITY)
    async def deliver_email(self, key: str) -> str:
        return await self.deliver(key, "email", last=_last_attempt)

    @activity.defn(name=PHONE_ACTIVITY)
    async def deliver_phone(self, key: str) -> str:
        return await self.deliver(key, "phone", last=_last_attempt)

    async def deliver(self, key: str, channel: Channel, *, last: Callable[[], bool]) -> str:
        """Deliver ``key`` on ``channel``: the final state, or ApplicationError to be tried
        again later. ``last`` says whether this is the last allowed attempt: a failure
        then records 'failed' instead of raising."""
        config = self._config
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT registration_number, kind, recipient, payload FROM notification_outbox"
                " WHERE key = $1",
                key,
            )
            if row is None or row["recipient"] != APPLICANT:
                return "not an applicant notice"
            got = await contacts.claim(
                conn,
                key,
                channel,
                lease_s=config.lease_s,
                template_version=config.templates.version,
            )
            if got.attempts is None:
                if got.state in FINAL:
                    return got.state
                # Another attempt holds a live claim: it may be sending right now.
                raise ApplicationError(f"{key} {channel}: claimed by another attempt")
            contact = await contacts.contact_of(conn, row["registration_number"])
        address = None
        if contact is not None and contact.consent_at is not None:
            address = contact.email if channel == "email" else contact.phone
        if contact is None or address is None:
            return await self._settle(key, channel, "skipped", "no consented contact")
        configured = config.smtp.host if channel == "email" else config.gateway.url
        if not configured:
            return await self._settle(key, channel, "recorded", "no provider configured")
        try:
            message = config.templates.render(
                row["kind"], contact.language, dict(row["payload"]), config.base_url
            )
        except TemplateProblem as exc:
            # A kind without a template or a payload without a fact: no retry will help.
            return await self._settle(key, channel, "failed", f"template: {exc}")
        try:
            async with _heartbeating():
                outcome = await asyncio.wait_for(
                    self._send(key, channel, address, contact.language, row["kind"], message),
                    timeout=config.lease_s / 2,
                )
        except TimeoutError:
            # The send may still complete (a thread cannot be stopped): leave the claim to
            # run out, so no other attempt sends before the lease's second half has passed.
            metrics.observe_delivery_failure(channel)
            raise ApplicationError(f"{key} {channel}: provider timed out") from None
        return await self._finish(key, channel, outcome, last)

    async def _send(
        self, key: str, channel: Channel, address: str, language: str, kind: str, message: Rendered
    ) -> Outcome:
        if channel == "email":
            return await send_email(self._config.smtp, key, address, message)
        return await send_gateway(
            self._config.gateway, self._http, key, address, language, kind, message
        )

    async def _finish(
        self, key: str, channel: Channel, outcome: Outcome, last: Callable[[], bool]
    ) -> str:
        if outcome.sent:
            log.info("notice %s sent by %s", key, channel)
            return await self._settle(key, channel, "sent", None, outcome.provider_ref)
        metrics.observe_delivery_failure(channel)
        if outcome.permanent or last():
            log.warning("notice %s failed for good on %s: %s", key, channel, outcome.error)
            return await self._settle(key, channel, "failed", outcome.error)
        await self._settle(key, channel, "retrying", outcome.error)
        raise ApplicationError(f"{key} {channel}: {outcome.error}")

    async def _settle(
        self,
        key: str,
        channel: Channel,
        state: contacts.DeliveryState,
        error: str | None,
        provider_ref: str | None = None,
    ) -> str:
        async with self._pool.acquire() as conn:
            await contacts.settle(conn, key, channel, state, error=error, provider_ref=provider_ref)
        return state
