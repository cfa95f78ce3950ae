"""Delivers outbox notifications to the configured webhook (HTTP POST, JSON).

A failed delivery is tried again with backoff for as long as it takes (by the outbox
dispatcher, or by Temporal for workflows from before it); the outbox row records every
attempt. The row's key goes out as ``Idempotency-Key`` so a receiver can
drop the rare repeat (a POST that succeeded just before the worker died).
"""

from __future__ import annotations

import logging

import asyncpg
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from loket import metrics
from loket.store.outbox import mark_attempt, pending

log = logging.getLogger(__name__)


class NotifyActivities:
    def __init__(self, pool: asyncpg.Pool, webhook_url: str, http: httpx.AsyncClient) -> None:
        self._pool = pool
        self._url = webhook_url
        self._http = http

    @activity.defn(name="deliver_notification")
    async def deliver_notification(self, key: str) -> str:
        """One activity per notification: workflows from before the outbox dispatcher."""
        return await self.deliver(key)

    async def deliver(self, key: str) -> str:
        """Deliver ``key`` to the webhook; raise ApplicationError to be tried again later
        (by Temporal's retry policy or by the dispatcher's backoff)."""
        row = await pending(self._pool, key)
        if row is None:
            return "already delivered"
        if not self._url:
            # No endpoint configured: the outbox row itself is the notification (shown in
            # inboxes and the admin dashboard); mark it so nothing waits on it.
            await mark_attempt(self._pool, key, None)
            return "recorded (no webhook configured)"
        body = {"key": key, "kind": row["kind"], "recipient": row["recipient"], **row["payload"]}
        try:
            response = await self._http.post(
                self._url, json=body, headers={"Idempotency-Key": key}, timeout=10.0
            )
        except httpx.HTTPError as exc:
            await mark_attempt(self._pool, key, f"{type(exc).__name__}: {exc}")
            metrics.observe_delivery_failure("webhook")
            raise ApplicationError(f"webhook unreachable: {exc}") from exc
        if response.status_code >= 300:
            await mark_attempt(self._pool, key, f"HTTP {response.status_code}")
            metrics.observe_delivery_failure("webhook")
            raise ApplicationError(f"webhook answered HTTP {response.status_code}")
        await mark_attempt(self._pool, key, None)
        log.info("delivered %s to %s", key, self._url)
        return "delivered"
