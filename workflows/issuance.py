"""The Temporal side of issuing a permit (issue 10 §2): activity names, timeouts, retry
policies, the activities a decision that issues runs, and the refusal their failure
becomes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from loket.case.permit import IssuedPermit, NumberingRequest, PermitDocument
from loket.refusal import RefusalCode
from workflows.shell import STORE_REFUSED, refuse

# Marks the histories that took the issuing path (numbering and rendering activities before
# the decision is recorded). Histories without it never reach that path: their pinned
# definitions have no step with 'issues_permit'.
PERMIT_PATCH = "issued-permit-v1"
NUMBER_ACTIVITY = "number_permit"
RENDER_ACTIVITY = "render_permit"
NO_SIGNING_OFFICIAL = "NoSigningOfficial"
# From this patch on, one activity numbers, renders and stores (issue 13: one activity task
# and one workflow task fewer on every permit's last decision); histories without its marker
# keep the two above.
ISSUE_PATCH = "issue-in-one-v1"
ISSUE_ACTIVITY = "issue_permit"

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


# Numbering and rendering in one attempt: a permanent refusal fails at once; anything else
# (a store fault, a full disk) is retried for about two minutes, as rendering alone was, and
# then the decision is refused (503, retry later): a later one finds the same number.
ISSUE_TIMEOUT = NUMBER_TIMEOUT + RENDER_TIMEOUT
ISSUE_RETRY = dataclasses.replace(
    RENDER_RETRY, non_retryable_error_types=NUMBER_RETRY.non_retryable_error_types
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


async def issue(numbering: NumberingRequest) -> IssuedPermit:
    """Number, render and store the permit: one activity from ``issue-in-one-v1`` on, the
    two of the histories recorded before it otherwise. Raises ActivityError."""
    issued: IssuedPermit
    if workflow.patched(ISSUE_PATCH):
        issued = await workflow.execute_activity(
            ISSUE_ACTIVITY,
            numbering,
            result_type=IssuedPermit,
            start_to_close_timeout=ISSUE_TIMEOUT,
            retry_policy=ISSUE_RETRY,
            summary=f"issue the permit of {numbering.registration_number}",
        )
        return issued
    document = await workflow.execute_activity(
        NUMBER_ACTIVITY,
        numbering,
        result_type=PermitDocument,
        start_to_close_timeout=NUMBER_TIMEOUT,
        retry_policy=NUMBER_RETRY,
        summary=f"number the permit of {numbering.registration_number}",
    )
    issued = await workflow.execute_activity(
        RENDER_ACTIVITY,
        document,
        result_type=IssuedPermit,
        start_to_close_timeout=RENDER_TIMEOUT,
        retry_policy=RENDER_RETRY,
        summary=f"render permit {document.number}",
    )
    return issued
