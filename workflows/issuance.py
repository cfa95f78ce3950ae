"""The Temporal side of issuing a permit (issue 10 §2): activity names, timeouts, retry
policies, and the refusal an activity's failure becomes."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from loket.refusal import RefusalCode
from workflows.shell import STORE_REFUSED, refuse

# Marks the histories that took the issuing path (numbering and rendering activities before
# the decision is recorded). Histories without it never reach that path: their pinned
# definitions have no step with 'issues_permit'.
PERMIT_PATCH = "issued-permit-v1"
NUMBER_ACTIVITY = "number_permit"
RENDER_ACTIVITY = "render_permit"
NO_SIGNING_OFFICIAL = "NoSigningOfficial"

# One short transaction; transient store faults are retried without limit (the number is
# taken once whatever happens), data the store refuses for good fails at once.
NUMBER_TIMEOUT = timedelta(seconds=15)
NUMBER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
    non_retryable_error_types=[STORE_REFUSED, NO_SIGNING_OFFICIAL],
)
# A render that keeps failing (a full disk, a template bug) must not hold the decision (and
# the cancel it blocks) forever: after about two minutes the decision is refused, and a
# later one finds the same number.
RENDER_TIMEOUT = timedelta(seconds=30)
RENDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
)


def issue_refusal(exc: ActivityError) -> ApplicationError:
    """The Update's refusal when numbering or rendering failed for good."""
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type == NO_SIGNING_OFFICIAL:
        details = dict(cause.details[0]) if cause.details else {}
        return refuse(RefusalCode.NO_SIGNING_OFFICIAL, **details)
    if isinstance(cause, ApplicationError) and cause.type == STORE_REFUSED:
        return refuse(RefusalCode.STORE_REFUSED)
    return refuse(RefusalCode.PERMIT_NOT_RENDERED)
