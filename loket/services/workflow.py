"""Talking to an application's workflow: every state change is a Workflow Update whose ID
carries the caller's idempotency key."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from loket import metrics
from loket.case.messages import ApplicationView
from loket.refusal import RefusalCode, Refused
from loket.services.context import Services
from loket.services.errors import Conflict, Unavailable, task_not_found
from loket.services.security import log_refused
from loket.store.users import User

log = logging.getLogger(__name__)

# "Not yours" answers exactly like "not there", so nothing about other counters leaks.
HIDDEN_REFUSALS = frozenset({RefusalCode.NOT_YOUR_COUNTER, RefusalCode.UNKNOWN_STEP})
# How soon a caller may ask again after an Update did not answer in time.
PENDING_RETRY_AFTER_S = 2


def update_id(operation: str, registration_number: str, key: str) -> str:
    """The Temporal Update ID of a change: Temporal answers a repeated ID with the first
    outcome, so a retried or double-submitted request acts once."""
    return f"{operation}:{registration_number}:{key}"


def refusal(code: str, params: dict[str, Any]) -> Refused | Conflict:
    """The workflow's refusal as the case core's ``Refused`` (a code it does not know: a
    ``Conflict`` with that code)."""
    try:
        known = RefusalCode(code)
    except ValueError:
        return Conflict(code, **params)
    return Refused(known, **params)


async def update_workflow(
    services: Services,
    registration_number: str,
    update: str,
    request: Any,
    *,
    operation: str,
    key: str,
    user: User | None = None,
    step_id: str | None = None,
) -> ApplicationView:
    """Send an Update to an application's workflow and return its new state.

    A refusal by the workflow's validator or handler is raised as ``Refused`` (recorded in
    the security log); "not your counter" is raised exactly like a missing task. An Update
    that does not answer within ``update_timeout_s`` is ``Unavailable("update_pending")``:
    the same key later attaches to the same Update.
    """
    handle = services.client.get_workflow_handle(registration_number, result_type=ApplicationView)
    try:
        view: ApplicationView = await asyncio.wait_for(
            handle.execute_update(
                update,
                request,
                id=update_id(operation, registration_number, key),
                result_type=ApplicationView,
            ),
            timeout=services.settings.update_timeout_s,
        )
        return view
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if not (isinstance(cause, ApplicationError) and cause.type == "Refused"):
            log.error("update %s of %s failed: %r", update, registration_number, cause)
            raise Conflict("update_failed", type=getattr(cause, "type", None)) from None
        code = cause.message
        params = dict(cause.details[0]) if cause.details else {}
        metrics.observe_refusal(code)
        await log_refused(
            services,
            action=operation,
            code=code,
            user=user,
            username=None if user else getattr(getattr(request, "actor", None), "username", None),
            registration_number=registration_number,
            step_id=step_id or params.get("step_id"),
            details=params,
        )
        if code in HIDDEN_REFUSALS:
            raise task_not_found(
                registration_number, step_id or str(params.get("step_id"))
            ) from None
        raise refusal(code, params) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        log.warning("update %s of %s still pending", update, registration_number)
        raise Unavailable("update_pending", retry_after=PENDING_RETRY_AFTER_S) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # The workflow has finished (or never ran): nothing can change any more.
            raise Refused(RefusalCode.CLOSED, result="closed") from None
        raise
