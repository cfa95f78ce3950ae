"""One durable workflow per permit application, driven by the pure routing core.

Registered as a dynamic workflow so each permit type shows in Temporal under its own type
name (``PBG``, ``SIP``...). The route version and the working-time calendar arrive in the
input and stay pinned for the application's life.

Every state change follows one path: the routing core computes a transition, ``_apply``
turns its events into task rows and audit entries, one activity writes them in one
database transaction, and only then does the handler answer. Staff decisions are Updates
whose validators refuse a wrong step, counter or outcome before anything reaches history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from loket import search_attributes as sa
    from loket.calendar import Pause, WorkDuration, calendar_for
    from loket.escalation import rule_instant, rules_for
    from loket.fees import FeeAssessment, assess
    from loket.refusal import RefusalCode, Refused
    from loket.route.form import FormError, merge_corrections
    from loket.route.model import TaskStep
    from loket.route.standard import service_duration
    from loket.route.stepper import RouteEvent, RouteState, Stepper, Transition
    from workflows.messages import (
        SYSTEM,
        Actor,
        ApplicationRecord,
        ApplicationStatus,
        ApplicationView,
        AuditEntry,
        CancelRequest,
        ClaimRequest,
        DecisionRequest,
        EscalationRecord,
        ExtendRequest,
        Notification,
        PermitInput,
        ReassignRequest,
        RecomputeRequest,
        RecordBatch,
        ResubmitRequest,
        StepView,
        TaskRecord,
        TaskState,
    )

RECORD_ACTIVITY = "record_transition"
DELIVER_ACTIVITY = "deliver_notification"
RECORD_TIMEOUT = timedelta(seconds=30)
# The read model must end up complete: retry without limit, backing off to a minute.
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
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


@dataclass
class _StepClock:
    """An open step's timing: when it opened, its deadline before pauses, its pauses."""

    step: TaskStep
    attempt: int
    opened_at: datetime
    base_due: datetime
    state: TaskState = "open"
    pauses: list[Pause] = field(default_factory=list)
    claimed_by: str | None = None
    escalation_level: int = 0
    fired: set[int] = field(default_factory=set)  # escalation rules fired this attempt


@workflow.defn(dynamic=True)
class PermitWorkflow:
    @workflow.init
    def __init__(self, args: Sequence[RawValue]) -> None:
        self._input = workflow.payload_converter().from_payload(args[0].payload, PermitInput)
        self._permit = self._input.permit
        self._stepper = Stepper(self._permit)
        self._calendar = calendar_for(self._input.calendar)
        self._data: dict[str, Any] = dict(self._input.data)
        self._state: RouteState | None = None
        self._clocks: dict[str, _StepClock] = {}
        self._fees: FeeAssessment | None = None
        self._lock = asyncio.Lock()
        self._seq = 0
        self._submitted_at: datetime | None = None
        self._service_due: datetime | None = None
        self._service_pauses: list[Pause] = []
        self._finished_at: datetime | None = None
        self._changes = 0  # bumped on every recorded change: wakes the deadline loop
        self._deliveries: list[asyncio.Future[Any]] = []
        self._history_warned = False

    # --- the run ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> ApplicationView:
        async with self._lock:
            now = workflow.now()
            self._submitted_at = now
            duration, label = service_duration(self._permit, self._data)
            self._service_due = self._calendar.add(now, duration)
            submitted = self._audit(
                "application_submitted",
                self._input.applicant,
                to_state="in_progress",
                details={
                    "permit_type": self._permit.id,
                    "route_version": self._permit.version,
                    "service_time": str(duration),
                    "service_time_rule": label,
                    "service_due_at": self._service_due.isoformat(),
                    "calendar_version": self._calendar.version,
                },
            )
            await self._commit(self._stepper.start(self._data), self._input.applicant, [submitted])
        while not self._route.finished:
            seen = self._changes
            next_at = self._next_escalation_at()
            timeout = None if next_at is None else max(next_at - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self._route.finished or self._changes != seen,  # type: ignore[misc]
                    timeout=timeout,
                )
            except TimeoutError:
                async with self._lock:
                    await self._escalate_due()
            if workflow.info().is_continue_as_new_suggested() and not self._history_warned:
                # A permit stays far below the limit; one that does not is worth a look.
                workflow.logger.warning("history is large; consider a continue-as-new cut")
                self._history_warned = True
        # Let Updates that already passed validation answer before the run ends.
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Notifications already in the outbox are delivered before the workflow closes.
        await asyncio.gather(*self._deliveries)
        return self._view()

    # --- escalation --------------------------------------------------------------------------

    def _escalation_candidates(self) -> list[tuple[_StepClock, int, datetime]]:
        """Every unfired rule of every running step, with the instant it fires."""
        found = []
        for clock in self._clocks.values():
            if clock.state != "open" or clock.step.clock == "paused":
                continue  # waiting on the applicant: nobody at the counter is late
            for index, rule in enumerate(rules_for(self._permit, clock.step)):
                if index in clock.fired:
                    continue
                at = rule_instant(
                    self._calendar, rule, clock.opened_at, clock.base_due, clock.pauses
                )
                if at is not None:
                    found.append((clock, index, at))
        return found

    def _next_escalation_at(self) -> datetime | None:
        return min((at for _, _, at in self._escalation_candidates()), default=None)

    async def _escalate_due(self) -> None:
        now = workflow.now()
        reg = self._input.registration_number
        tasks: dict[str, TaskRecord] = {}
        audit: list[AuditEntry] = []
        escalations: list[EscalationRecord] = []
        notifications: list[Notification] = []
        for clock, index, at in sorted(self._escalation_candidates(), key=lambda c: c[2]):
            if at > now:
                continue
            rule = rules_for(self._permit, clock.step)[index]
            clock.fired.add(index)
            clock.escalation_level += 1
            recipient = self._recipient(clock, rule.to)
            due = self._due(clock)
            escalations.append(
                EscalationRecord(
                    step_id=clock.step.id,
                    attempt=clock.attempt,
                    rule_index=index,
                    action=rule.action,
                    recipient=recipient,
                    level=clock.escalation_level,
                    due_at=due,
                    fired_at=now,
                )
            )
            details = {
                "rule": index,
                "action": rule.action,
                "to": rule.to,
                "recipient": recipient,
                "level": clock.escalation_level,
                "scheduled_at": at.isoformat(),
                "due_at": due.isoformat() if due else None,
            }
            audit.append(self._audit("step_escalated", SYSTEM, step=clock, details=details))
            notifications.append(
                Notification(
                    key=f"{reg}:{clock.step.id}:{clock.attempt}:{index}",
                    registration_number=reg,
                    kind=rule.action,
                    recipient=recipient,
                    created_at=now,
                    payload={
                        **details,
                        "registration_number": reg,
                        "permit_type": self._permit.id,
                        "step_id": clock.step.id,
                        "step_name": clock.step.name,
                        "agency": clock.step.agency,
                        "counter": clock.step.counter,
                        "attempt": clock.attempt,
                    },
                )
            )
            tasks[clock.step.id] = self._task_record(clock)
        if audit:
            await self._record(list(tasks.values()), audit, escalations, notifications)

    def _recipient(self, clock: _StepClock, to: str) -> str:
        agency, counter = clock.step.agency, clock.step.counter
        return {
            "assignee": clock.claimed_by or f"counter:{agency}/{counter}",
            "counter": f"counter:{agency}/{counter}",
            "supervisor": f"supervisor:{agency}",
            "agency_head": f"head:{agency}",
            "inspectorate": "inspectorate",
        }[to]

    # --- staff decisions ---------------------------------------------------------------------

    @workflow.update(name="decide")
    async def decide(self, request: DecisionRequest) -> ApplicationView:
        async with self._lock:
            self._check_staff(request.step_id, request.actor)  # state may have moved meanwhile
            try:
                transition = self._stepper.decide(
                    self._route, self._data, request.step_id, request.outcome
                )
            except Refused as exc:
                raise refused(exc) from None
            await self._commit(transition, request.actor, note=request.note)
            return self._view()

    @decide.validator
    def _validate_decide(self, request: DecisionRequest) -> None:
        self._check_staff(request.step_id, request.actor)
        try:
            self._stepper.check_decision(self._route, request.step_id, request.outcome)
        except Refused as exc:
            raise refused(exc) from None

    @workflow.update(name="claim")
    async def claim(self, request: ClaimRequest) -> ApplicationView:
        async with self._lock:
            clock = self._check_staff(request.step_id, request.actor)
            if clock.claimed_by == request.actor.username:
                return self._view()  # claiming twice is harmless
            clock.claimed_by = request.actor.username
            entry = self._audit(
                "task_claimed", request.actor, step=clock, details={"claimed_by": clock.claimed_by}
            )
            await self._record([self._task_record(clock)], [entry])
            return self._view()

    @claim.validator
    def _validate_claim(self, request: ClaimRequest) -> None:
        clock = self._check_staff(request.step_id, request.actor)
        if clock.state != "open":
            raise refuse(RefusalCode.WAITING_FOR_APPLICANT, step_id=request.step_id)

    # --- the applicant ---------------------------------------------------------------------

    @workflow.update(name="resubmit")
    async def resubmit(self, request: ResubmitRequest) -> ApplicationView:
        async with self._lock:
            self._validate_resubmit(request)
            extra: list[AuditEntry] = []
            if request.data is not None:
                corrected = self._corrected_form(request)
                changed = sorted(k for k, v in corrected.items() if self._data.get(k) != v)
                self._data = corrected
                extra.append(
                    self._audit("application_corrected", request.actor, details={"fields": changed})
                )
            transition = self._stepper.resubmit(self._route)
            await self._commit(transition, request.actor, extra, note=request.note)
            return self._view()

    @resubmit.validator
    def _validate_resubmit(self, request: ResubmitRequest) -> None:
        if request.actor.role not in ("applicant", "staff", "supervisor"):
            raise refuse(RefusalCode.WRONG_ROLE, role=request.actor.role)
        try:
            self._stepper.check_resubmission(self._route)
        except Refused as exc:
            raise refused(exc) from None
        if request.data is not None:
            self._corrected_form(request)

    def _corrected_form(self, request: ResubmitRequest) -> dict[str, Any]:
        """Corrections checked against the form of the pinned route version, not today's."""
        try:
            return dict(merge_corrections(self._permit, self._data, request.data or {}))
        except FormError as exc:
            raise refuse(
                RefusalCode.INVALID_FORM, fields=tuple(e["field"] for e in exc.errors)
            ) from None

    # --- supervisors and administrators ------------------------------------------------------

    @workflow.update(name="extend_deadline")
    async def extend_deadline(self, request: ExtendRequest) -> ApplicationView:
        async with self._lock:
            clock = self._check_extend(request)
            extra = WorkDuration.parse(request.extra)
            before = self._due(clock)
            clock.base_due = self._calendar.add(clock.base_due, extra)
            entry = self._audit(
                "deadline_extended",
                request.actor,
                step=clock,
                details={
                    "extra": str(extra),
                    "reason": request.reason,
                    "due_before": before.isoformat() if before else None,
                    "due_after": (d.isoformat() if (d := self._due(clock)) else None),
                },
            )
            await self._record([self._task_record(clock)], [entry])
            return self._view()

    @extend_deadline.validator
    def _validate_extend(self, request: ExtendRequest) -> None:
        self._check_extend(request)

    @workflow.update(name="reassign")
    async def reassign(self, request: ReassignRequest) -> ApplicationView:
        async with self._lock:
            clock = self._check_reassign(request)
            to = request.to.username if request.to else None
            if clock.claimed_by == to:
                return self._view()  # already theirs: nothing to record
            entry = self._audit(
                "task_reassigned",
                request.actor,
                step=clock,
                details={"from": clock.claimed_by, "to": to, "reason": request.reason},
            )
            clock.claimed_by = to
            await self._record([self._task_record(clock)], [entry])
            return self._view()

    @reassign.validator
    def _validate_reassign(self, request: ReassignRequest) -> None:
        self._check_reassign(request)

    @workflow.update(name="recompute_deadlines")
    async def recompute_deadlines(self, request: RecomputeRequest) -> ApplicationView:
        async with self._lock:
            self._validate_recompute(request)
            calendar = calendar_for(request.calendar)
            changes = {}
            for clock in self._clocks.values():
                before = self._due(clock)
                clock.base_due = calendar.add(clock.opened_at, clock.step.deadline)
                after = calendar.due_after_pauses(clock.opened_at, clock.base_due, clock.pauses)
                changes[clock.step.id] = {
                    "before": before.isoformat() if before else None,
                    "after": after.isoformat() if after else None,
                }
            previous = self._calendar.version
            if self._submitted_at is not None:
                duration, _ = service_duration(self._permit, self._data)
                self._service_due = calendar.add(self._submitted_at, duration)
            self._calendar = calendar
            entry = self._audit(
                "deadlines_recomputed",
                request.actor,
                details={
                    "reason": request.reason,
                    "calendar_before": previous,
                    "calendar_after": calendar.version,
                    "steps": changes,
                },
            )
            await self._record([self._task_record(c) for c in self._clocks.values()], [entry])
            return self._view()

    @recompute_deadlines.validator
    def _validate_recompute(self, request: RecomputeRequest) -> None:
        if request.actor.role != "admin":
            raise refuse(RefusalCode.WRONG_ROLE, role=request.actor.role)
        if self._route.finished:
            raise refuse(RefusalCode.CLOSED, result=self._route.result)

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> ApplicationView:
        async with self._lock:
            self._validate_cancel(request)
            transition = self._stepper.cancel(self._route)
            await self._commit(transition, request.actor, note=request.reason)
            return self._view()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if request.actor.role != "admin":
            raise refuse(RefusalCode.WRONG_ROLE, role=request.actor.role)
        if self._route.finished:
            raise refuse(RefusalCode.CLOSED, result=self._route.result)

    @workflow.query(name="view")
    def view(self) -> ApplicationView:
        return self._view()

    # --- checks ------------------------------------------------------------------------------

    @property
    def _route(self) -> RouteState:
        if self._state is None:
            raise refuse(RefusalCode.NOT_REGISTERED)
        return self._state

    def _check_staff(self, step_id: str, actor: Actor) -> _StepClock:
        route = self._route
        if route.finished:
            raise refuse(RefusalCode.CLOSED, result=route.result)
        clock = self._clocks.get(step_id)
        if clock is None:
            raise refuse(
                RefusalCode.ALREADY_DECIDED
                if route.attempt_of(step_id)
                else RefusalCode.STEP_NOT_OPEN,
                step_id=step_id,
            )
        step = clock.step
        if not actor.serves(step.agency, step.counter):
            raise refuse(RefusalCode.NOT_YOUR_COUNTER, step_id=step_id)
        if clock.claimed_by not in (None, actor.username):
            raise refuse(RefusalCode.CLAIMED_BY_OTHER, step_id=step_id, claimed_by=clock.claimed_by)
        return clock

    def _check_extend(self, request: ExtendRequest) -> _StepClock:
        route = self._route
        clock = self._clocks.get(request.step_id)
        if route.finished or clock is None:
            raise refuse(RefusalCode.STEP_NOT_OPEN, step_id=request.step_id)
        if request.actor.role != "supervisor" or request.actor.agency != clock.step.agency:
            raise refuse(RefusalCode.NOT_YOUR_COUNTER, step_id=request.step_id)
        try:
            WorkDuration.parse(request.extra)
        except ValueError:
            raise refuse(RefusalCode.INVALID_DURATION, extra=request.extra) from None
        return clock

    def _check_reassign(self, request: ReassignRequest) -> _StepClock:
        route = self._route
        clock = self._clocks.get(request.step_id)
        if route.finished or clock is None:
            raise refuse(RefusalCode.STEP_NOT_OPEN, step_id=request.step_id)
        step = clock.step
        if request.actor.role != "supervisor" or request.actor.agency != step.agency:
            raise refuse(RefusalCode.NOT_YOUR_COUNTER, step_id=request.step_id)
        to = request.to
        if to is not None and (
            to.role not in ("staff", "supervisor") or not to.serves(step.agency, step.counter)
        ):
            raise refuse(RefusalCode.ASSIGNEE_NOT_SERVING, step_id=request.step_id, to=to.username)
        return clock

    # --- applying transitions ----------------------------------------------------------------

    async def _commit(
        self,
        transition: Transition,
        actor: Actor,
        audit: list[AuditEntry] | None = None,
        note: str = "",
    ) -> None:
        tasks, entries = self._apply(transition, actor, note)
        await self._record(tasks, [*(audit or []), *entries])

    def _apply(
        self, transition: Transition, actor: Actor, note: str
    ) -> tuple[list[TaskRecord], list[AuditEntry]]:
        now = workflow.now()
        tasks: list[TaskRecord] = []
        audit: list[AuditEntry] = []
        for event in transition.events:
            audit += self._apply_event(event, actor, note, now, tasks)
        self._state = transition.state
        audit += self._update_service_clock(actor, now)
        return tasks, audit

    def _apply_event(
        self, event: RouteEvent, actor: Actor, note: str, now: datetime, tasks: list[TaskRecord]
    ) -> list[AuditEntry]:
        step_id = event.step_id or ""
        kind = event.kind
        if kind == "step_opened":
            step = self._stepper.graph.task(step_id)
            clock = _StepClock(
                step=step,
                attempt=event.attempt or 1,
                opened_at=now,
                base_due=self._calendar.add(now, step.deadline),
            )
            self._clocks[step_id] = clock
            tasks.append(self._task_record(clock))
            entries = [self._audit("step_opened", SYSTEM, step=clock, to_state="open")]
            if step.assesses_fees:
                self._fees = assess(self._permit.fees, self._data)
                entries.append(
                    self._audit(
                        "fees_assessed",
                        SYSTEM,
                        step=clock,
                        details={"total": self._fees.total, "currency": self._fees.currency},
                    )
                )
            return entries
        if kind == "step_decided":
            clock = self._clocks[step_id]
            details = {"outcome": event.outcome, "target": event.target, "note": note}
            if event.target == "applicant":
                return [self._audit("step_decided", actor, step=clock, details=details)]
            del self._clocks[step_id]
            clock.state = "done"
            tasks.append(
                self._task_record(clock, outcome=event.outcome, note=note, by=actor, closed=now)
            )
            return [
                self._audit(
                    "step_decided",
                    actor,
                    step=clock,
                    from_state="open",
                    to_state="done",
                    details=details,
                )
            ]
        if kind == "step_returned":
            clock = self._clocks[step_id]
            clock.state = "returned"
            clock.pauses.append((now, None))
            tasks.append(self._task_record(clock, note=note, by=actor))
            return [
                self._audit(
                    "step_returned",
                    actor,
                    step=clock,
                    from_state="open",
                    to_state="returned",
                    details={"note": note},
                ),
                self._audit(
                    "clock_paused",
                    actor,
                    step=clock,
                    details={"reason": "returned to the applicant for corrections"},
                ),
            ]
        if kind == "step_resumed":
            clock = self._clocks[step_id]
            clock.state = "open"
            paused_at, _ = clock.pauses[-1]
            clock.pauses[-1] = (paused_at, now)
            paused = self._calendar.paused_working_time(clock.opened_at, now, [(paused_at, now)])
            tasks.append(self._task_record(clock))
            return [
                self._audit(
                    "step_resumed", actor, step=clock, from_state="returned", to_state="open"
                ),
                self._audit(
                    "clock_resumed",
                    actor,
                    step=clock,
                    details={
                        "paused_from": paused_at.isoformat(),
                        "paused_working_time_s": int(paused.total_seconds()),
                    },
                ),
            ]
        if kind == "step_cancelled":
            clock = self._clocks.pop(step_id)
            previous = clock.state
            clock.state = "cancelled"
            tasks.append(self._task_record(clock, closed=now))
            return [
                self._audit(
                    "step_cancelled", actor, step=clock, from_state=previous, to_state="cancelled"
                )
            ]
        if kind == "step_skipped":
            return [
                self._audit(
                    "step_skipped",
                    SYSTEM,
                    details={"step_id": step_id, "reason": "condition is false"},
                )
            ]
        if kind in ("branches_forked", "branches_joined"):
            return [self._audit(kind, SYSTEM, details={"parallel_step": step_id})]
        # permit_finished
        self._finished_at = now
        return [
            self._audit(
                "application_finished",
                actor,
                from_state="in_progress",
                to_state=event.result,
                details={"note": note} if note else {},
            )
        ]

    def _waiting_for_applicant(self) -> bool:
        return any(c.state == "returned" or c.step.clock == "paused" for c in self._clocks.values())

    def _update_service_clock(self, actor: Actor, now: datetime) -> list[AuditEntry]:
        """Pause the permit's own service clock while the file waits on the applicant."""
        waiting = self._waiting_for_applicant() and not self._route.finished
        paused = bool(self._service_pauses) and self._service_pauses[-1][1] is None
        if waiting and not paused:
            self._service_pauses.append((now, None))
            return [
                self._audit("service_clock_paused", actor, details={"reason": self._pause_reason()})
            ]
        if paused and not waiting:
            start, _ = self._service_pauses[-1]
            self._service_pauses[-1] = (start, now)
            return [
                self._audit(
                    "service_clock_resumed", actor, details={"paused_from": start.isoformat()}
                )
            ]
        return []

    def _pause_reason(self) -> str:
        if any(c.state == "returned" for c in self._clocks.values()):
            return "returned to the applicant for corrections"
        return "waiting for the applicant's payment"

    # --- records -----------------------------------------------------------------------------

    async def _record(
        self,
        tasks: list[TaskRecord],
        audit: list[AuditEntry],
        escalations: list[EscalationRecord] | None = None,
        notifications: list[Notification] | None = None,
    ) -> None:
        batch = RecordBatch(
            application=self._application_record(),
            tasks=tuple(tasks),
            audit=tuple(audit),
            escalations=tuple(escalations or ()),
            notifications=tuple(notifications or ()),
        )
        await workflow.execute_activity(
            RECORD_ACTIVITY,
            batch,
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RECORD_RETRY,
        )
        self._changes += 1
        self._upsert_search_attributes()
        for notification in notifications or ():
            # Started, not awaited: a failing webhook never holds up the permit.
            self._deliveries.append(
                workflow.start_activity(
                    DELIVER_ACTIVITY,
                    notification.key,
                    start_to_close_timeout=DELIVERY_TIMEOUT,
                    retry_policy=DELIVERY_RETRY,
                )
            )

    def _audit(
        self,
        event: str,
        actor: Actor,
        *,
        step: _StepClock | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        self._seq += 1
        return AuditEntry(
            seq=self._seq,
            event=event,
            at=workflow.now(),
            actor=actor.username,
            actor_role=actor.role,
            step_id=step.step.id if step else None,
            attempt=step.attempt if step else None,
            from_state=from_state,
            to_state=to_state,
            details=details or {},
        )

    def _due(self, clock: _StepClock) -> datetime | None:
        return self._calendar.due_after_pauses(clock.opened_at, clock.base_due, clock.pauses)

    def _service_due_now(self) -> datetime | None:
        if self._service_due is None or self._submitted_at is None:
            return None
        return self._calendar.due_after_pauses(
            self._submitted_at, self._service_due, self._service_pauses
        )

    def _task_record(
        self,
        clock: _StepClock,
        *,
        outcome: str | None = None,
        note: str | None = None,
        by: Actor | None = None,
        closed: datetime | None = None,
    ) -> TaskRecord:
        step = clock.step
        return TaskRecord(
            step_id=step.id,
            attempt=clock.attempt,
            name=step.name,
            agency=step.agency,
            counter=step.counter,
            state=clock.state,
            opened_at=clock.opened_at,
            due_at=self._due(clock),
            calendar_version=self._calendar.version,
            clock=step.clock,
            claimed_by=clock.claimed_by,
            outcome=outcome,
            note=note,
            decided_by=by.username if by else None,
            closed_at=closed,
            escalation_level=clock.escalation_level,
            used_working_s=(
                int(
                    self._calendar.used_working_time(
                        clock.opened_at, closed, clock.pauses
                    ).total_seconds()
                )
                if closed is not None
                else None
            ),
        )

    def _status(self) -> ApplicationStatus:
        result = self._state.result if self._state else None
        return result or "in_progress"

    def _application_record(self) -> ApplicationRecord:
        assert self._submitted_at is not None
        return ApplicationRecord(
            registration_number=self._input.registration_number,
            permit_type=self._permit.id,
            route_version=self._permit.version,
            status=self._status(),
            data=self._data,
            submitted_at=self._submitted_at,
            service_due_at=self._service_due_now(),
            calendar_version=self._calendar.version,
            current_steps=tuple(self._clocks),
            current_agencies=tuple(sorted({c.step.agency for c in self._clocks.values()})),
            waiting_for_applicant=self._waiting_for_applicant(),
            fees=self._fees,
            finished_at=self._finished_at,
        )

    def _view(self) -> ApplicationView:
        steps = tuple(
            StepView(
                step_id=c.step.id,
                name=c.step.name,
                agency=c.step.agency,
                counter=c.step.counter,
                attempt=c.attempt,
                state=c.state,
                opened_at=c.opened_at,
                due_at=self._due(c),
                claimed_by=c.claimed_by,
                escalation_level=c.escalation_level,
                clock=c.step.clock,
                outcomes=tuple(c.step.outcomes),
            )
            for c in self._clocks.values()
        )
        return ApplicationView(
            registration_number=self._input.registration_number,
            permit_type=self._permit.id,
            route_version=self._permit.version,
            status=self._status(),
            submitted_at=self._submitted_at or workflow.now(),
            service_due_at=self._service_due_now(),
            calendar_version=self._calendar.version,
            open_steps=steps,
            fees=self._fees,
            waiting_for_applicant=self._waiting_for_applicant(),
            finished_at=self._finished_at,
        )

    def _upsert_search_attributes(self) -> None:
        if not self._input.search_attributes:
            return
        running = [d for c in self._clocks.values() if (d := self._due(c)) is not None]
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.PERMIT_TYPE.value_set(self._permit.id),
            sa.ROUTE_VERSION.value_set(self._permit.version),
            sa.STATUS.value_set(self._status()),
            sa.CURRENT_STEP.value_set(sorted(self._clocks)),
            sa.CURRENT_AGENCY.value_set(sorted({c.step.agency for c in self._clocks.values()})),
            sa.ESCALATION_LEVEL.value_set(
                max((c.escalation_level for c in self._clocks.values()), default=0)
            ),
            sa.DUE_TIME.value_set(min(running)) if running else sa.DUE_TIME.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)
