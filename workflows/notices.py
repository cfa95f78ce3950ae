"""Delivery of applicant notices from the workflow: one activity per channel.

Staff notifications (escalations) go to the webhook as before. An applicant notice starts
the e-mail and the WhatsApp/SMS activity; each looks up the contact in the store, so no
contact data ever enters the workflow. Applicant notices are new commands on existing
paths (a submission, a return, a decision), hence the patch: histories recorded before it
replay without them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from loket.case.messages import Notification
from loket.case.notices import APPLICANT

PATCH = "notify-v1"
CHANNEL_ACTIVITIES = ("deliver_email", "deliver_phone")
CHANNEL_TIMEOUT = timedelta(seconds=60)
CHANNEL_HEARTBEAT = timedelta(seconds=10)
# Bounded, unlike the webhook's: about a day of trying, then the attempt records 'failed'
# and the workflow can end (it waits for its deliveries before it returns).
CHANNEL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(hours=1),
    maximum_attempts=30,
)


def is_applicant_notice(notification: Notification) -> bool:
    return notification.recipient == APPLICANT


async def _tolerated(handle: workflow.ActivityHandle[Any], activity: str, key: str) -> Any:
    try:
        return await handle
    except ActivityError:
        # Out of attempts (a worker died in the last one): the delivery row says so.
        workflow.logger.warning("%s of %s gave up", activity, key)
        return None


def start_channel_deliveries(notification: Notification) -> list[asyncio.Future[Any]]:
    """The channel deliveries of an applicant notice, started and not awaited."""
    if not workflow.patched(PATCH):
        return []
    return [
        asyncio.ensure_future(
            _tolerated(
                workflow.start_activity(
                    activity,
                    notification.key,
                    start_to_close_timeout=CHANNEL_TIMEOUT,
                    heartbeat_timeout=CHANNEL_HEARTBEAT,
                    retry_policy=CHANNEL_RETRY,
                    summary=f"{notification.kind} by {activity.removeprefix('deliver_')}",
                ),
                activity,
                notification.key,
            )
        )
        for activity in CHANNEL_ACTIVITIES
    ]
