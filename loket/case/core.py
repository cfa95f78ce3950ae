"""The pure case core: what every operation on a permit application does.

Above the routing core (which knows only which steps are open), this knows everything
else a case knows: step clocks (opened, paused, extended, claimed, escalated), the
permit's service clock, fees, and which records each change makes (task rows, hash-chained
audit entries, escalations, outbox). No I/O, no Temporal: the workflow is a thin shell
over it and the simulator shares its clock rules.

Every operation takes a frozen ``CaseState`` and returns a :class:`Change` (new state and
the batch to record), or raises ``Refused(code, params)``. ``check_*`` methods are the
Update validators: the same checks, without building the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loket.calendar import CalendarRangeError, WorkCalendar, WorkDuration, calendar_for
from loket.case import billing, checks, documents, notices, records
from loket.case.clock import pause_reason, toggle_pause, waiting_for_applicant
from loket.case.draft import Change, Draft
from loket.case.events import EVENTS, PAUSE_REASONS
from loket.case.messages import (
    Actor,
    CancelRequest,
    ClaimRequest,
    DecisionRequest,
    ExtendRequest,
    ReassignRequest,
    RecomputeRequest,
    ResubmitRequest,
)
from loket.case.permit import IssuedPermit, record_issue
from loket.case.state import CaseState, ServiceClock, StepClock
from loket.refusal import RefusalCode, Refused
from loket.route.model import PermitType
from loket.route.standard import service_duration
from loket.route.stepper import RouteState, Stepper, Transition


class Case:
    """The case core for one route version; shared by every case pinned to it."""

    def __init__(self, permit: PermitType, calendar: WorkCalendar) -> None:
        self.permit = permit
        self.stepper = Stepper(permit)
        self.graph = self.stepper.graph
        self._calendars: dict[str, WorkCalendar] = {calendar.version: calendar}

    def calendar(self, state: CaseState) -> WorkCalendar:
        return self._calendars[state.calendar_version]

    def calendar_version(self, version: str) -> WorkCalendar:
        return self._calendars[version]

    def know_calendar(self, calendar: WorkCalendar) -> None:
        self._calendars[calendar.version] = calendar

    # --- starting ------------------------------------------------------------------------

    def start(
        self, registration_number: str, data: dict[str, Any], applicant: Actor, now: datetime
    ) -> Change:
        calendar = next(iter(self._calendars.values()))
        duration, rule = service_duration(self.permit, data)
        service = ServiceClock(started_at=now, base_due=calendar.add(now, duration), rule=rule)
        empty = CaseState(
            registration_number=registration_number,
            route=RouteState(),
            service=service,
            data=data,
            calendar_version=calendar.version,
        )
        draft = Draft(self, empty, now)
        draft.audit(
            "application_submitted",
            applicant,
            to_state="in_progress",
            details={
                "permit_type": self.permit.id,
                "route_version": self.permit.version,
                "service_time": str(duration),
                "service_time_rule": rule,
                "service_due_at": service.base_due.isoformat(),
                "calendar_version": calendar.version,
            },
        )
        notices.received(draft)
        self._apply(draft, self.stepper.start(data), applicant, "")
        return draft.done()

    # --- staff ---------------------------------------------------------------------------

    def check_decide(self, state: CaseState, request: DecisionRequest) -> None:
        checks.staff(self, state, request.step_id, request.actor)
        self.stepper.check_decision(state.route, request.step_id, request.outcome)
        checks.text("note", request.note)
        billing.check_decision(state, request)
        documents.check_decision(self, state, request)

    def decide(
        self,
        state: CaseState,
        request: DecisionRequest,
        now: datetime,
        issued: IssuedPermit | None = None,
    ) -> Change:
        self.check_decide(state, request)
        transition = self.stepper.decide(state.route, state.data, request.step_id, request.outcome)
        draft = Draft(self, state, now)
        billing.teller_paid(draft, request)
        documents.record_decision(self, draft, request)
        record_issue(self.permit, draft, request, issued)
        self._apply(draft, transition, request.actor, request.note)
        return draft.done()

    def check_claim(self, state: CaseState, request: ClaimRequest) -> StepClock:
        clock = checks.staff(self, state, request.step_id, request.actor)
        token = state.route.token(request.step_id)
        if token is not None and token.status == "returned":
            raise Refused(RefusalCode.WAITING_FOR_APPLICANT, step_id=request.step_id)
        return clock

    def claim(self, state: CaseState, request: ClaimRequest, now: datetime) -> Change:
        clock = self.check_claim(state, request)
        if clock.claimed_by == request.actor.username:
            return Change(state, None)  # claiming twice is harmless
        return self._set_claim(state, clock, request.actor, now, "task_claimed", {})

    # --- the applicant -------------------------------------------------------------------

    def check_resubmit(self, state: CaseState, request: ResubmitRequest) -> dict[str, Any]:
        if request.actor.role not in ("applicant", "staff", "supervisor"):
            raise Refused(RefusalCode.WRONG_ROLE, role=request.actor.role)
        self.stepper.check_resubmission(state.route)
        checks.text("note", request.note)
        if request.data is None:
            return state.data
        return checks.corrected_form(self.permit, state.data, request.data)

    def resubmit(self, state: CaseState, request: ResubmitRequest, now: datetime) -> Change:
        corrected = self.check_resubmit(state, request)
        draft = Draft(self, state, now)
        if request.data is not None:
            changed = sorted(k for k, v in corrected.items() if state.data.get(k) != v)
            draft.data = corrected
            draft.audit("application_corrected", request.actor, details={"fields": changed})
        documents.record_resubmission(draft)
        self._apply(draft, self.stepper.resubmit(state.route), request.actor, request.note)
        return draft.done()

    # --- supervisors and administrators --------------------------------------------------

    def check_extend(self, state: CaseState, request: ExtendRequest) -> tuple[StepClock, datetime]:
        clock = checks.supervisor(self, state, request.step_id, request.actor)
        checks.text("reason", request.reason)
        try:
            extra = WorkDuration.parse(request.extra)
        except ValueError:
            raise Refused(RefusalCode.INVALID_DURATION, extra=request.extra) from None
        calendar = self.calendar(state)
        try:
            base_due = calendar.add(clock.base_due, extra)
            calendar.due_after_pauses(clock.opened_at, base_due, clock.pauses)
        except CalendarRangeError:
            raise Refused(
                RefusalCode.OUTSIDE_CALENDAR,
                extra=request.extra,
                last_year=calendar.snapshot.last_year,
            ) from None
        return clock, base_due

    def extend(self, state: CaseState, request: ExtendRequest, now: datetime) -> Change:
        clock, base_due = self.check_extend(state, request)
        draft = Draft(self, state, now)
        before = _iso(draft, clock)
        extended = clock.model_copy(
            update={"base_due": base_due, "extensions": (*clock.extensions, request.extra)}
        )
        draft.clocks[clock.step_id] = extended
        draft.audit(
            "deadline_extended",
            request.actor,
            clock=extended,
            details={
                "extra": str(WorkDuration.parse(request.extra)),
                "reason": request.reason,
                "due_before": before,
                "due_after": _iso(draft, extended),
            },
        )
        draft.task(extended, records.token_state(state, clock.step_id))
        return draft.done()

    def check_reassign(self, state: CaseState, request: ReassignRequest) -> StepClock:
        clock = checks.supervisor(self, state, request.step_id, request.actor)
        checks.text("reason", request.reason)
        step = self.graph.task(clock.step_id)
        to = request.to
        if to is not None and (
            to.role not in ("staff", "supervisor") or not to.serves(step.agency, step.counter)
        ):
            raise Refused(RefusalCode.ASSIGNEE_NOT_SERVING, step_id=request.step_id, to=to.username)
        return clock

    def reassign(self, state: CaseState, request: ReassignRequest, now: datetime) -> Change:
        clock = self.check_reassign(state, request)
        to = request.to.username if request.to else None
        if clock.claimed_by == to:
            return Change(state, None)  # already theirs: nothing to record
        details = {"from": clock.claimed_by, "to": to, "reason": request.reason}
        return self._set_claim(state, clock, request.actor, now, "task_reassigned", details, to)

    def check_recompute(
        self, state: CaseState, request: RecomputeRequest
    ) -> tuple[WorkCalendar, dict[str, datetime], datetime]:
        checks.admin(state, request.actor)
        checks.text("reason", request.reason)
        calendar = calendar_for(request.calendar)
        try:
            dues = {c.step_id: self._base_due(calendar, c) for c in state.clocks}
            duration, _ = service_duration(self.permit, state.data)
            service_due = calendar.add(state.service.started_at, duration)
        except CalendarRangeError:
            raise Refused(
                RefusalCode.OUTSIDE_CALENDAR, last_year=calendar.snapshot.last_year
            ) from None
        return calendar, dues, service_due

    def recompute(self, state: CaseState, request: RecomputeRequest, now: datetime) -> Change:
        calendar, dues, service_due = self.check_recompute(state, request)
        self.know_calendar(calendar)
        draft = Draft(self, state, now)
        before = {c.step_id: _iso(draft, c) for c in state.clocks}
        previous = state.calendar_version
        draft.calendar_version = calendar.version
        for step_id, base_due in dues.items():
            draft.clocks[step_id] = draft.clocks[step_id].model_copy(update={"base_due": base_due})
        draft.service = draft.service.model_copy(update={"base_due": service_due})
        changes = {
            step_id: {"before": before[step_id], "after": _iso(draft, clock)}
            for step_id, clock in draft.clocks.items()
        }
        draft.audit(
            "deadlines_recomputed",
            request.actor,
            details={
                "reason": request.reason,
                "calendar_before": previous,
                "calendar_after": calendar.version,
                "steps": changes,
            },
        )
        for clock in draft.clocks.values():
            draft.task(clock, records.token_state(state, clock.step_id))
        return draft.done()

    def check_cancel(self, state: CaseState, request: CancelRequest) -> None:
        checks.admin(state, request.actor)
        checks.text("reason", request.reason)

    def cancel(self, state: CaseState, request: CancelRequest, now: datetime) -> Change:
        self.check_cancel(state, request)
        draft = Draft(self, state, now)
        self._apply(draft, self.stepper.cancel(state.route), request.actor, request.reason)
        return draft.done()

    # --- internals -----------------------------------------------------------------------

    def _base_due(self, calendar: WorkCalendar, clock: StepClock) -> datetime:
        """The deadline before pauses: the step's own, then every extension in order."""
        due = calendar.add(clock.opened_at, self.graph.task(clock.step_id).deadline)
        for extra in clock.extensions:
            due = calendar.add(due, WorkDuration.parse(extra))
        return due

    def _set_claim(
        self,
        state: CaseState,
        clock: StepClock,
        actor: Actor,
        now: datetime,
        event: str,
        details: dict[str, Any],
        to: str | None = None,
    ) -> Change:
        holder = actor.username if event == "task_claimed" else to
        draft = Draft(self, state, now)
        claimed = clock.model_copy(update={"claimed_by": holder})
        draft.clocks[clock.step_id] = claimed
        if event == "task_claimed":
            details = {"claimed_by": holder}
        draft.audit(event, actor, clock=claimed, details=details)
        draft.task(claimed, records.token_state(state, clock.step_id))
        return draft.done()

    def _apply(self, draft: Draft, transition: Transition, actor: Actor, note: str) -> None:
        old_route = draft.route
        for event in transition.events:
            EVENTS[event.kind](self, draft, event, actor, note, old_route)
        draft.route = transition.state
        billing.settle(self, draft, actor)
        self._service_clock(draft, actor)

    def _service_clock(self, draft: Draft, actor: Actor) -> None:
        """Pause the permit's own service clock while the file waits on the applicant."""
        waiting = waiting_for_applicant(draft.route, self.graph)
        pauses, change = toggle_pause(draft.service.pauses, waiting, draft.now)
        if change is None:
            return
        previous = draft.service.pauses
        draft.service = draft.service.model_copy(update={"pauses": pauses})
        if change == "paused":
            reason = PAUSE_REASONS[pause_reason(draft.route)]
            draft.audit("service_clock_paused", actor, details={"reason": reason})
        else:
            start = previous[-1][0]
            draft.audit("service_clock_resumed", actor, details={"paused_from": start.isoformat()})


def _iso(draft: Draft, clock: StepClock) -> str | None:
    due = records.clock_due(draft.case.calendar_version(draft.calendar_version), clock)
    return due.isoformat() if due else None
