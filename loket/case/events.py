"""Route events -> clocks and records: what each event of the routing core does to a case.

One small function per event kind, dispatched by :data:`EVENTS`; the case core's
``_apply`` feeds them the events of a transition in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from loket.calendar import CalendarRangeError
from loket.case import notices
from loket.case.draft import Draft
from loket.case.messages import SYSTEM, Actor
from loket.case.state import StepClock
from loket.fees import assess
from loket.refusal import RefusalCode, Refused
from loket.route.stepper import RouteEvent, RouteState

if TYPE_CHECKING:
    from loket.case.core import Case

# PostgreSQL bigint: a fee total beyond it would be refused by the store for good.
MAX_AMOUNT = 2**63 - 1

PAUSE_REASONS = {
    "returned": "returned to the applicant for corrections",
    "payment": "waiting for the applicant's payment",
}


def _opened(case: Case, d: Draft, e: RouteEvent, actor: Actor, note: str, old: RouteState) -> None:
    step = case.graph.task(e.step_id or "")
    calendar = case.calendar_version(d.calendar_version)
    try:
        base_due = calendar.add(d.now, step.deadline)
    except CalendarRangeError:
        raise Refused(
            RefusalCode.OUTSIDE_CALENDAR, step_id=step.id, last_year=calendar.snapshot.last_year
        ) from None
    clock = StepClock(step_id=step.id, attempt=e.attempt or 1, opened_at=d.now, base_due=base_due)
    d.clocks[step.id] = clock
    d.task(clock, "open")
    d.audit("step_opened", SYSTEM, clock=clock, to_state="open")
    if step.assesses_fees:
        try:
            fees = assess(case.permit.fees, d.data)
        except (ArithmeticError, ValueError):
            raise Refused(RefusalCode.AMOUNT_OUT_OF_RANGE, step_id=step.id) from None
        if not 0 <= fees.total <= MAX_AMOUNT or any(
            not 0 <= line.amount <= MAX_AMOUNT for line in fees.lines
        ):
            raise Refused(RefusalCode.AMOUNT_OUT_OF_RANGE, step_id=step.id)
        d.fees = fees
        d.audit(
            "fees_assessed",
            SYSTEM,
            clock=clock,
            details={"total": fees.total, "currency": fees.currency},
        )


def _decided(case: Case, d: Draft, e: RouteEvent, actor: Actor, note: str, old: RouteState) -> None:
    clock = d.clocks[e.step_id or ""]
    details = {"outcome": e.outcome, "target": e.target, "note": note}
    if e.target == "applicant":
        d.audit("step_decided", actor, clock=clock, details=details)
        return
    del d.clocks[clock.step_id]
    d.task(clock, "done", outcome=e.outcome, note=note, decided_by=actor.username, closed=d.now)
    d.audit("step_decided", actor, clock=clock, from_state="open", to_state="done", details=details)


def _returned(
    self: Case, d: Draft, e: RouteEvent, actor: Actor, note: str, old: RouteState
) -> None:
    clock = d.clocks[e.step_id or ""]
    clock = clock.model_copy(update={"pauses": (*clock.pauses, (d.now, None))})
    d.clocks[clock.step_id] = clock
    d.task(clock, "returned", note=note, decided_by=actor.username)
    details: dict[str, object] = {"note": note}
    if d.corrections:
        details["corrections"] = list(d.corrections)  # 10A: the slots to upload again
    d.audit(
        "step_returned",
        actor,
        clock=clock,
        from_state="open",
        to_state="returned",
        details=details,
    )
    names = {doc.id: doc.name for doc in self.permit.documents}
    items = [{"id": slot, "name": names.get(slot, slot)} for slot in d.corrections]
    notices.returned(d, clock, note, items)
    d.audit("clock_paused", actor, clock=clock, details={"reason": PAUSE_REASONS["returned"]})


def _resumed(case: Case, d: Draft, e: RouteEvent, actor: Actor, note: str, old: RouteState) -> None:
    clock = d.clocks[e.step_id or ""]
    paused_at, _ = clock.pauses[-1]
    clock = clock.model_copy(update={"pauses": (*clock.pauses[:-1], (paused_at, d.now))})
    d.clocks[clock.step_id] = clock
    calendar = case.calendar_version(d.calendar_version)
    paused = calendar.paused_working_time(clock.opened_at, d.now, [(paused_at, d.now)])
    d.task(clock, "open")
    # The applicant's resubmission note (10A: it used to be dropped here).
    d.audit(
        "step_resumed",
        actor,
        clock=clock,
        from_state="returned",
        to_state="open",
        details={"note": note} if note else None,
    )
    d.audit(
        "clock_resumed",
        actor,
        clock=clock,
        details={
            "paused_from": paused_at.isoformat(),
            "paused_working_time_s": int(paused.total_seconds()),
        },
    )


def _cancelled(
    self: Case, d: Draft, e: RouteEvent, actor: Actor, note: str, old: RouteState
) -> None:
    clock = d.clocks.pop(e.step_id or "")
    token = old.token(clock.step_id)
    previous = token.status if token is not None else "open"
    d.task(clock, "cancelled", closed=d.now)
    d.audit("step_cancelled", actor, clock=clock, from_state=previous, to_state="cancelled")


def _skipped(case: Case, d: Draft, e: RouteEvent, actor: Actor, note: str, old: RouteState) -> None:
    d.audit("step_skipped", SYSTEM, details={"step_id": e.step_id, "reason": "condition is false"})


def _branches(
    self: Case, d: Draft, e: RouteEvent, actor: Actor, note: str, old: RouteState
) -> None:
    d.audit(e.kind, SYSTEM, details={"parallel_step": e.step_id})


def _finished(
    self: Case, d: Draft, e: RouteEvent, actor: Actor, note: str, old: RouteState
) -> None:
    d.finished_at = d.now
    d.audit(
        "application_finished",
        actor,
        from_state="in_progress",
        to_state=e.result,
        details={"note": note} if note else {},
    )
    notices.finished(d, e.result or "", note)


_Handler = Callable[["Case", Draft, RouteEvent, Actor, str, RouteState], None]
EVENTS: dict[str, _Handler] = {
    "step_opened": _opened,
    "step_decided": _decided,
    "step_returned": _returned,
    "step_resumed": _resumed,
    "step_cancelled": _cancelled,
    "step_skipped": _skipped,
    "branches_forked": _branches,
    "branches_joined": _branches,
    "permit_finished": _finished,
}
