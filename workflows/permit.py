"""One durable workflow per permit application: a thin Temporal shell over the case core.

Registered as a dynamic workflow so each permit type shows in Temporal under its own type
name (``PBG``, ``SIP``...). The route version and the calendar arrive in the input and stay
pinned for the application's life; continue-as-new carries the ``CaseState`` on.

Every state change follows one path: the case core (``loket.case``) computes the new state
and its record batch, or refuses with a code; the change is queued and one writer records
the queue in order, through one activity. A handler answers once its batch is written.
Nothing here holds a lock while it computes, so a slow store never blocks a validator, a
query or another Update from being accepted; the store refusing a batch for good undoes
that change (and any queued on top of it) and fails those Updates with ``store_refused``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import Priority, RawValue
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from loket.calendar import calendar_for
    from loket.case import applicant_choice, billing, documents, escalation, records
    from loket.case.core import Case
    from loket.case.documents import AttachRequest, UploadAnswer, UploadCheck
    from loket.case.draft import Change
    from loket.case.messages import (
        ApplicationView,
        CancelRequest,
        ClaimRequest,
        DecisionRequest,
        ExtendRequest,
        PermitInput,
        ReassignRequest,
        RecomputeRequest,
        ResubmitRequest,
    )
    from loket.case.permit import issues_permit, numbering_request
    from loket.case.state import CaseState
    from loket.refusal import RefusalCode, Refused
    from workflows import notices
    from workflows.issuance import PERMIT_PATCH, issue, issue_refusal
    from workflows.shell import (
        BACKGROUND,
        BACKGROUND_PATCH,
        DELIVER_ACTIVITY,
        DELIVERY_RETRY,
        DELIVERY_TIMEOUT,
        OUTBOX_PATCH,
        RECORD_ACTIVITY,
        RECORD_RETRY,
        RECORD_TIMEOUT,
        STORE_REFUSED,
        permit_input,
        refuse,
        refused,
        search_attribute_updates,
        summary,
    )


@dataclass
class _Queued:
    ticket: int
    change: Change
    before: CaseState | None
    background: bool = False  # no person waits for it: an escalation


@workflow.defn(dynamic=True)
class PermitWorkflow:
    @workflow.init
    def __init__(self, args: Sequence[RawValue]) -> None:
        self._input = permit_input(args[0].payload)
        self._case = Case(self._input.permit, calendar_for(self._input.calendar))
        self._state: CaseState | None = self._input.state
        self._queue: list[_Queued] = []
        self._tickets = 0
        self._written = 0
        self._undone: set[int] = set()
        self._write_lock = asyncio.Lock()  # one writer at a time, in queue order
        self._changes = 0  # bumped on every recorded change: wakes the deadline loop
        self._halted = False  # escalation stopped: the store refused one of its batches
        self._deliveries: list[asyncio.Future[Any]] = []
        self._issuing = 0  # issuing decisions numbering or rendering their permit now

    # --- the run ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> ApplicationView:
        if self._state is None:
            reg, data = self._input.registration_number, dict(self._input.data)
            change = self._case.start(reg, data, self._input.applicant, workflow.now())
            ticket = self._enqueue(change, None)
            try:
                await self._settle(ticket)
            except ApplicationError as exc:
                # Nothing of this application reached the read model: fail it visibly.
                raise ApplicationError(exc.message, type=STORE_REFUSED, non_retryable=True) from exc
        while not self._current.finished:
            seen = self._changes
            due = None if self._halted else self._next_due()
            timeout = None if due is None else max(due[2] - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self._current.finished or self._changes != seen,  # type: ignore[misc]
                    timeout=timeout,
                    timeout_summary=None if due is None else escalation.timer_summary(due),
                )
            except TimeoutError:
                await self._escalate()
            if workflow.info().is_continue_as_new_suggested() and await self._quiet():
                workflow.continue_as_new(self._carried_input())
        # Updates that passed validation answer, and queued notifications are delivered,
        # before the run ends.
        await self._quiet()
        return self._view()

    def _next_due(self) -> tuple[str, int, datetime] | None:
        # Rules spread by file over the deployment's window (loket.case.escalation.spread).
        return escalation.next_due(self._case, self._current, self._input.escalation_spread_s)

    async def _escalate(self) -> None:
        change = escalation.escalate_due(self._case, self._current, workflow.now())
        if change.batch is None:
            return
        try:
            await self._settle(self._enqueue(change, self._current, background=True))
        except ApplicationError:
            workflow.logger.error("escalation refused by the store; escalation halted")
            self._halted = True

    async def _quiet(self) -> bool:
        """Wait until no Update runs and nothing is queued: the moment to continue-as-new."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._queue)
        await asyncio.gather(*self._deliveries)
        return workflow.all_handlers_finished() and not self._queue

    def _carried_input(self) -> PermitInput:
        state = self._current
        return self._input.model_copy(
            update={
                "state": state,
                "data": state.data,
                "calendar": self._case.calendar(state).snapshot,
            }
        )

    # --- staff, applicant, supervisors, administrators ---------------------------------------

    @workflow.update(name="decide")
    async def decide(self, request: DecisionRequest) -> ApplicationView:
        if issues_permit(self._case.permit, request) and workflow.patched(PERMIT_PATCH):
            return await self._issue(request)
        return await self._change(lambda s, now: self._case.decide(s, request, now))

    @decide.validator
    def _validate_decide(self, request: DecisionRequest) -> None:
        self._check(lambda s: self._case.check_decide(s, request))
        if self._issuing and issues_permit(self._case.permit, request):
            raise refuse(RefusalCode.PERMIT_BEING_ISSUED)

    @workflow.update(name="claim")
    async def claim(self, request: ClaimRequest) -> ApplicationView:
        return await self._change(lambda s, now: self._case.claim(s, request, now))

    @claim.validator
    def _validate_claim(self, request: ClaimRequest) -> None:
        self._check(lambda s: self._case.check_claim(s, request))

    @workflow.update(name="resubmit")
    async def resubmit(self, request: ResubmitRequest) -> ApplicationView:
        return await self._change(lambda s, now: self._case.resubmit(s, request, now))

    @resubmit.validator
    def _validate_resubmit(self, request: ResubmitRequest) -> None:
        self._check(lambda s: self._case.check_resubmit(s, request))

    @workflow.update(name="extend_deadline")
    async def extend_deadline(self, request: ExtendRequest) -> ApplicationView:
        return await self._change(lambda s, now: self._case.extend(s, request, now))

    @extend_deadline.validator
    def _validate_extend(self, request: ExtendRequest) -> None:
        self._check(lambda s: self._case.check_extend(s, request))

    @workflow.update(name="reassign")
    async def reassign(self, request: ReassignRequest) -> ApplicationView:
        return await self._change(lambda s, now: self._case.reassign(s, request, now))

    @reassign.validator
    def _validate_reassign(self, request: ReassignRequest) -> None:
        self._check(lambda s: self._case.check_reassign(s, request))

    @workflow.update(name="recompute_deadlines")
    async def recompute_deadlines(self, request: RecomputeRequest) -> ApplicationView:
        return await self._change(lambda s, now: self._case.recompute(s, request, now))

    @recompute_deadlines.validator
    def _validate_recompute(self, request: RecomputeRequest) -> None:
        self._check(lambda s: self._case.check_recompute(s, request))

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> ApplicationView:
        return await self._change(lambda s, now: self._case.cancel(s, request, now))

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        self._check(lambda s: self._case.check_cancel(s, request))
        if self._issuing:  # a number taken for a file cancelled meanwhile would be a gap
            raise refuse(RefusalCode.PERMIT_BEING_ISSUED)

    @workflow.query(name="view")
    def view(self) -> ApplicationView:
        return self._view()

    @workflow.query(name="audit_chain")
    def audit_chain(self) -> list[str]:
        """Every audit hash this case wrote, by sequence number: the anchor of the chain
        check, held outside the database."""
        return list(self._state.hashes) if self._state else []

    # --- the shell ---------------------------------------------------------------------------

    @property
    def _current(self) -> CaseState:
        if self._state is None:
            raise refuse(RefusalCode.NOT_REGISTERED)
        return self._state

    def _check(self, check: Callable[[CaseState], object]) -> None:
        try:
            check(self._current)
        except Refused as exc:
            raise refused(exc) from None

    async def _change(self, operation: Callable[[CaseState, datetime], Change]) -> ApplicationView:
        # Computed and queued in one step (no await in between): no handler interleaves.
        try:
            change = operation(self._current, workflow.now())
        except Refused as exc:
            raise refused(exc) from None
        if change.batch is None:
            return self._view()
        await self._settle(self._enqueue(change, self._current))
        return self._view()

    def _enqueue(self, change: Change, before: CaseState | None, background: bool = False) -> int:
        self._tickets += 1
        self._queue.append(_Queued(self._tickets, change, before, background))
        self._state = change.state
        return self._tickets

    async def _settle(self, ticket: int) -> None:
        """Return once ``ticket``'s batch is written; raise if the store refused it."""
        async with self._write_lock:
            while self._written < ticket and ticket not in self._undone:
                await self._write_head()
        if ticket in self._undone:
            self._undone.discard(ticket)
            raise refuse(RefusalCode.STORE_REFUSED)

    async def _write_head(self) -> None:
        head = self._queue[0]
        batch = head.change.batch
        dispatched = batch is not None and workflow.patched(OUTBOX_PATCH)
        if dispatched and batch is not None and batch.notifications:
            batch = batch.model_copy(update={"dispatch": True})
        background = head.background and workflow.patched(BACKGROUND_PATCH)
        try:
            await workflow.execute_activity(
                RECORD_ACTIVITY,
                batch,
                start_to_close_timeout=RECORD_TIMEOUT,
                retry_policy=RECORD_RETRY,
                summary=summary(batch),
                priority=BACKGROUND if background else Priority.default,
            )
        except ActivityError as exc:
            cause = exc.cause
            if not (isinstance(cause, ApplicationError) and cause.type == STORE_REFUSED):
                raise
            workflow.logger.error("the store refused a batch for good: %s", cause.message)
            # Undo it and everything queued on top of it: the case is as it was.
            self._undone.update(q.ticket for q in self._queue)
            self._written = self._queue[-1].ticket
            self._queue.clear()
            self._state = head.before
            self._changes += 1
            return
        self._queue.pop(0)
        self._written = head.ticket
        self._changes += 1
        self._upsert_search_attributes(head.change.state)
        workflow.set_current_details(records.details(self._case, head.change.state))
        if dispatched:
            return  # the outbox row is the hand-over: no delivery activity
        for notification in batch.notifications if batch else ():
            if notices.is_applicant_notice(notification):
                self._deliveries.extend(notices.start_channel_deliveries(notification))
                continue
            # Started, not awaited: a failing webhook never holds up the permit.
            self._deliveries.append(
                workflow.start_activity(
                    DELIVER_ACTIVITY,
                    notification.key,
                    start_to_close_timeout=DELIVERY_TIMEOUT,
                    retry_policy=DELIVERY_RETRY,
                )
            )

    def _view(self) -> ApplicationView:
        return records.view(self._case, self._current)

    def _upsert_search_attributes(self, state: CaseState) -> None:
        if self._input.search_attributes:
            workflow.upsert_search_attributes(search_attribute_updates(self._case, state))

    # --- the applicant's own outcomes (issue 12b: a complainant reopens a complaint) ---------

    @workflow.update(name="applicant_choose")
    async def applicant_choose(
        self, request: applicant_choice.ApplicantChoiceRequest
    ) -> ApplicationView:
        return await self._change(
            lambda s, now: applicant_choice.choose(self._case, s, request, now)
        )

    @applicant_choose.validator
    def _validate_applicant_choose(self, request: applicant_choice.ApplicantChoiceRequest) -> None:
        self._check(lambda s: applicant_choice.check_choose(self._case, s, request))

    # --- billing (issue 11): the bank's confirmed payment --------------------------------

    @workflow.update(name="record_payment")
    async def record_payment(self, request: billing.PaymentRequest) -> ApplicationView:
        return await self._change(
            lambda s, now: billing.record_payment(self._case, s, request, now)
        )

    @record_payment.validator
    def _validate_record_payment(self, request: billing.PaymentRequest) -> None:
        self._check(lambda s: billing.check_payment(s, request, workflow.now()))

    # --- documents (10A) ---------------------------------------------------------------------

    @workflow.update(name="attach_document")
    async def attach_document(self, request: AttachRequest) -> ApplicationView:
        """A stored file (its reference only) becomes the next version of a slot."""
        return await self._change(lambda s, now: documents.attach(self._case, s, request, now))

    @attach_document.validator
    def _validate_attach(self, request: AttachRequest) -> None:
        self._check(lambda s: documents.check_attach(self._case, s, request))

    @workflow.query(name="check_upload")
    def check_upload(self, request: UploadCheck) -> UploadAnswer:
        if self._state is None:
            return UploadAnswer(code=RefusalCode.NOT_REGISTERED.value)
        return documents.answer_upload(self._case, self._state, request)

    # --- the issued permit (issue 10 §2) ---------------------------------------------------

    async def _issue(self, request: DecisionRequest) -> ApplicationView:
        """Number and render the permit, then record the decision with both: the Update
        answers with the number. Issuing is safe to retry (workflows/issuance.py)."""
        self._check(lambda s: self._case.check_decide(s, request))
        state = self._current
        numbering = numbering_request(
            self._case.permit,
            state.data,
            state.registration_number,
            workflow.now(),
            self._case.calendar(state).snapshot.utc_offset_hours,
        )
        self._issuing += 1
        try:
            issued = await issue(numbering)
        except ActivityError as exc:
            workflow.logger.error("permit not issued: %s", exc.cause)
            raise issue_refusal(exc) from None
        finally:
            self._issuing -= 1
        # Computed and queued with no await after the counter drops: no cancel slips in.
        return await self._change(lambda s, now: self._case.decide(s, request, now, issued))
