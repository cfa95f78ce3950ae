"""The Temporal side of the permit workflow that is not the workflow class: activity names
and retry policies, the wire form of a refusal, what the Temporal UI shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import Priority, RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

from loket import search_attributes as sa
from loket.case import records
from loket.case.core import Case
from loket.case.messages import PermitInput, RecordBatch
from loket.case.shared import permit_input_from_json
from loket.case.state import CaseState
from loket.refusal import RefusalCode, Refused

RECORD_ACTIVITY = "record_transition"
# Issue 13: notifications go out through the workers' outbox dispatcher; histories from
# before it started one delivery activity per notification (and channel) instead.
OUTBOX_PATCH = "outbox-dispatch-v1"
DELIVER_ACTIVITY = "deliver_notification"
# Issue 13 (the morning after Lebaran): a record no person waits for (an escalation the
# deadline fired) runs behind the staff's decisions in the activity task queue. Temporal
# serves priority 1 first, 5 last; unset is 3, what every other activity inherits.
BACKGROUND_PATCH = "background-priority-v1"
BACKGROUND = Priority(priority_key=4)
STORE_REFUSED = "StoreRefused"  # the record activity's non-retryable error type
RECORD_TIMEOUT = timedelta(seconds=30)
# Transient store faults are retried without limit (the read model must end up complete);
# data the store refuses for good fails at once as STORE_REFUSED, never retried.
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
    non_retryable_error_types=[STORE_REFUSED],
)
# A webhook may be down for hours: keep trying, never block the permit's progress.
DELIVERY_TIMEOUT = timedelta(seconds=30)
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=0,
)


def refuse(code: RefusalCode, **params: Any) -> ApplicationError:
    """A refusal the caller sees as a code with parameters; it fails the Update, never the
    workflow. Wire form: message = the code, details = (params,)."""
    return ApplicationError(code.value, dict(params), type="Refused", non_retryable=True)


def refused(exc: Refused) -> ApplicationError:
    return refuse(exc.code, **exc.params)


def summary(batch: RecordBatch | None) -> str:
    """What the Temporal UI shows on a record activity: the events it writes."""
    if batch is None or not batch.audit:
        return "record"
    events = ", ".join(dict.fromkeys(e.event for e in batch.audit))
    return f"record #{batch.audit[0].seq}-{batch.audit[-1].seq}: {events}"[:200]


def search_attribute_updates(case: Case, state: CaseState) -> list[SearchAttributeUpdate[Any]]:
    """Where the file is, for `temporal workflow list --query`; never personal data."""
    running = [due for c in state.clocks if (due := records.step_due(case, state, c)) is not None]
    agencies = sorted({case.graph.task(c.step_id).agency for c in state.clocks})
    return [
        sa.PERMIT_TYPE.value_set(case.permit.id),
        sa.ROUTE_VERSION.value_set(case.permit.version),
        sa.STATUS.value_set(records.status(state)),
        sa.CURRENT_STEP.value_set(sorted(c.step_id for c in state.clocks)),
        sa.CURRENT_AGENCY.value_set(agencies),
        sa.ESCALATION_LEVEL.value_set(max((c.escalation_level for c in state.clocks), default=0)),
        sa.DUE_TIME.value_set(min(running)) if running else sa.DUE_TIME.value_unset(),
    ]


def permit_input(payload: Payload) -> PermitInput:
    """The workflow's input, its route version and calendar shared with other workflows
    (``loket.case.shared``); another encoding than the JSON converter's decodes as usual."""
    if payload.metadata.get("encoding") == b"json/plain":
        return permit_input_from_json(payload.data)
    return workflow.payload_converter().from_payload(payload, PermitInput)
