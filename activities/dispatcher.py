"""The outbox dispatcher: delivers the notifications the workflows wrote, from the outbox.

Before it, every notification was one Temporal activity started by its workflow: an
activity task and one more workflow task per escalation and per applicant notice (two, one
per channel), and the workflow waited for them before it ended. Now the row written in the
same transaction as the change is the whole hand-over (a transactional outbox): every
worker process runs one dispatcher next to its Temporal worker, woken by the writing
transaction's ``pg_notify`` and polling for retries.

Exactly once per row and channel, as before: a dispatcher claims due rows with
``FOR UPDATE SKIP LOCKED`` and a lease (several dispatchers take disjoint rows; a dead
one's rows are due again when the lease runs out), and the deliveries themselves are the
same idempotent functions the activities call (the webhook's Idempotency-Key, the
channels' per-channel claims in ``notification_deliveries``). A failing delivery is due
again after a backoff; staff notifications are tried for as long as it takes, applicant
channels for a bounded number of attempts (then 'failed'), as their retry policies said.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg

from activities.channels import ChannelActivities
from activities.notify import NotifyActivities
from loket.case.notices import APPLICANT
from loket.contact import Channel
from loket.store import contacts, outbox
from loket.store.outbox import Claimed

log = logging.getLogger(__name__)

CHANNELS: tuple[Channel, ...] = ("email", "phone")


@dataclass(frozen=True)
class Backoff:
    initial_s: float
    maximum_s: float
    max_attempts: int = 0  # 0: without limit

    def delay_s(self, attempt: int) -> float:
        return float(min(self.initial_s * 2 ** max(attempt - 1, 0), self.maximum_s))


# The retry policies the delivery activities had (workflows/shell.py, workflows/notices.py).
WEBHOOK_BACKOFF = Backoff(initial_s=1.0, maximum_s=600.0)
CHANNEL_BACKOFF = Backoff(initial_s=2.0, maximum_s=3600.0, max_attempts=30)


@dataclass(frozen=True)
class DispatcherConfig:
    concurrency: int = 20  # deliveries in flight at once, per dispatcher
    poll_s: float = 1.0  # without a wake-up: how often due retries are looked for
    # Longer than one delivery may take: the webhook's 10 s timeout, a channel's send
    # (half the channel claim lease). A dead dispatcher's rows are due again after it.
    lease_s: float = 60.0
    webhook: Backoff = WEBHOOK_BACKOFF
    channels: Backoff = CHANNEL_BACKOFF


class OutboxDispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        notify: NotifyActivities,
        channels: ChannelActivities,
        config: DispatcherConfig | None = None,
    ) -> None:
        self._pool = pool
        self._notify = notify
        self._channels = channels
        self._config = config or DispatcherConfig()
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Dispatch until cancelled; deliveries in flight are cancelled with it (their
        leases run out and another dispatcher takes them)."""
        listener = asyncio.create_task(self._listen())
        me = asyncio.current_task()
        try:
            # A cancellation some awaited library call swallowed still counts: stop.
            while me is None or not me.cancelling():
                await self._dispatch_due()
                await self._wait()
        finally:
            listener.cancel()
            for task in (listener, *self._in_flight):
                task.cancel()
            await asyncio.gather(listener, *self._in_flight, return_exceptions=True)

    async def _dispatch_due(self) -> None:
        room = self._config.concurrency - len(self._in_flight)
        if room <= 0:
            return
        try:
            claimed = await outbox.claim_due(self._pool, room, self._config.lease_s)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("outbox not read: %s", exc)
            return
        for row in claimed:
            task = asyncio.create_task(self._deliver(row))
            self._in_flight.add(task)
            task.add_done_callback(self._done)
        if len(claimed) == room:
            self._wake.set()  # there may be more due right now

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # room for the next

    async def _wait(self) -> None:
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
        # that lands as its inner wait completes, and the dispatcher would never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._config.poll_s):
                await self._wake.wait()
        self._wake.clear()

    async def _deliver(self, row: Claimed) -> None:
        retry_in: float | None = None
        try:
            if row.recipient == APPLICANT:
                retry_in = await self._deliver_channels(row)
            else:
                retry_in = await self._deliver_webhook(row)
        except Exception as exc:  # a store fault mid-delivery: the row is tried again
            log.warning("delivery of %s failed: %s", row.key, exc)
            retry_in = self._config.webhook.delay_s(row.attempt)
        # Delivered rows are out of the due index; anything else (a failure, or a final
        # state not recorded yet) is looked at again later, never in a tight loop.
        try:
            await outbox.release(self._pool, row.key, retry_in or self._config.lease_s)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The lease runs out and the row is due again: delivered rows are not resent.
            log.warning("outbox row %s not released: %s", row.key, exc)

    async def _deliver_webhook(self, row: Claimed) -> float | None:
        try:
            await self._notify.deliver(row.key)
        except Exception as exc:
            log.info("webhook delivery of %s will be tried again: %s", row.key, exc)
            return self._config.webhook.delay_s(row.attempt)
        return None

    async def _deliver_channels(self, row: Claimed) -> float | None:
        backoff = self._config.channels
        async with self._pool.acquire() as conn:
            contact = await contacts.contact_of(conn, row.registration_number)
            if contact is None and await contacts.skip_without_contact(
                conn, row.key, CHANNELS, "no consented contact"
            ):
                return None  # most walk-in files: one transaction instead of two deliveries

        def last() -> bool:
            return 0 < backoff.max_attempts <= row.attempt

        results: list[Any] = await asyncio.gather(
            *(self._channels.deliver(row.key, ch, last=last) for ch in CHANNELS),
            return_exceptions=True,
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        if not failed:
            return None
        log.info("channel delivery of %s will be tried again: %s", row.key, failed[0])
        return backoff.delay_s(row.attempt)

    async def _listen(self) -> None:
        """LISTEN on the wake channel; on a lost connection, poll and listen again."""
        while True:
            try:
                # A connection of its own, not one of the pool's: held for the worker's life,
                # it would leave the activities (and an API sharing the pool) one short.
                pool: Any = self._pool  # its connect arguments are not public API
                conn = await asyncpg.connect(*pool._connect_args, **pool._connect_kwargs)
                try:
                    closed = asyncio.Event()
                    conn.add_termination_listener(lambda _, closed=closed: closed.set())
                    await conn.add_listener(outbox.WAKE_CHANNEL, self._on_notify)
                    await closed.wait()
                finally:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("outbox wake-ups lost, polling: %s", exc)
            await asyncio.sleep(self._config.poll_s)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()
