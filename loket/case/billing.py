"""Billing in the case core (issue 11): the bill (SKRD), its payment, its reminders.

- When the payment step (``pay_within``) opens on a case whose assessed fees leave
  something to pay, a bill is issued: billing code, amount, pay-by date in working time.
  Free licenses and waivers (a total of 0) never produce one.
- A bank's callback becomes :func:`record_payment`: the exact amount of an open bill,
  before its pay-by, closes the payment step with ``approve`` as the bank; a second payment
  of the same bill is refused here (and by the bills table's constraint below it).
- The teller's hand confirmation stays: approving a billed payment step needs the SSRD
  receipt number (:func:`check_decision`, :func:`teller_paid`).
- A payment step that closes any other way cancels its open bill.

Applicant notifications follow the contract of issue 11: ``recipient="applicant"``, key
``{registration_number}:{kind}:{seq}``, non-personal payload.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from loket.calendar import CalendarRangeError
from loket.case import checks
from loket.case.bill import MAX_BILLS, Bill, BillPayment, billing_code
from loket.case.draft import Change, Draft
from loket.case.messages import Actor, DecisionRequest, Notification
from loket.case.state import CaseState, StepClock
from loket.refusal import RefusalCode, Refused
from loket.route.billing import payment_step

if TYPE_CHECKING:
    from loket.case.core import Case

APPROVE = "approve"  # the payment step's outcome a payment takes
APPLICANT = "applicant"


class PaymentRequest(BaseModel):
    """A bank's confirmed payment (already authenticated by the service layer)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bank: str = Field(min_length=1, max_length=32)
    transaction_id: str = Field(min_length=1, max_length=64)
    billing_code: str = Field(min_length=1, max_length=40)
    amount: int
    paid_at: datetime
    actor: Actor


def bank_actor(bank: str) -> Actor:
    return Actor(username=f"bank:{bank}", role="system")


def _bill_of(state: CaseState | Draft, step_id: str) -> Bill | None:
    bills = state.bills.values() if isinstance(state, Draft) else state.bills
    return next((b for b in bills if b.step_id == step_id and b.status == "open"), None)


def open_bill(state: CaseState, step_id: str) -> Bill | None:
    """The open bill of a step, if it has one."""
    return _bill_of(state, step_id)


def escalation_window(state: CaseState, clock: StepClock) -> tuple[datetime, datetime] | None:
    """The working window a billed payment step's escalation ladder is measured on:
    from billing to the pay-by date. None: not billed (the step's clock stays paused)."""
    bill = _bill_of(state, clock.step_id)
    return (bill.billed_at, bill.pay_by) if bill is not None else None


def _notification(draft: Draft, kind: str, facts: dict[str, Any]) -> Notification:
    """For the applicant, caused by the audit entry just written (its seq is in the key)."""
    reg = draft.before.registration_number
    return Notification(
        key=f"{reg}:{kind}:{draft.seq}",
        registration_number=reg,
        kind=kind,
        recipient=APPLICANT,
        created_at=draft.now,
        payload={"registration_number": reg, "permit_type": draft.case.permit.id, **facts},
    )


def _notify(draft: Draft, kind: str, facts: dict[str, Any]) -> None:
    draft.notifications.append(_notification(draft, kind, facts))


def payment_reminder(draft: Draft, clock: StepClock) -> Notification:
    """The applicant's reminder of an unpaid bill (an escalation rule ``to: applicant``);
    call right after the rule's audit entry, whose seq it carries."""
    bill = _bill_of(draft, clock.step_id)
    facts: dict[str, Any] = (
        {
            "billing_code": bill.billing_code,
            "amount": bill.amount,
            "pay_by": bill.pay_by.isoformat(),
        }
        if bill is not None
        else {}
    )
    return _notification(draft, "payment_reminder", facts)


# --- issuing and cancelling, after every transition ------------------------------------


def settle(case: Case, draft: Draft, actor: Actor) -> None:
    """Cancel the open bill of a payment step that closed unpaid; bill a payment step that
    just opened. A no-op for routes without a payment step."""
    for code, bill in list(draft.bills.items()):
        clock = draft.clocks.get(bill.step_id)
        if bill.status == "open" and (clock is None or clock.attempt != bill.attempt):
            draft.bills[code] = bill.model_copy(
                update={"status": "cancelled", "closed_at": draft.now}
            )
            draft.audit("bill_cancelled", actor, details={"billing_code": code})
    step = payment_step(case.permit)
    if step is None or step.pay_within is None or step.id not in draft.clocks:
        return
    clock = draft.clocks[step.id]
    if any(b.step_id == step.id and b.attempt == clock.attempt for b in draft.bills.values()):
        return
    fees = draft.fees
    if fees is None or fees.free or fees.total <= 0:
        return  # free, waived or nothing assessed: nothing to pay
    index = len(draft.bills) + 1
    if index > MAX_BILLS:
        raise Refused(RefusalCode.BILL_LIMIT_REACHED, limit=MAX_BILLS)
    calendar = case.calendar_version(draft.calendar_version)
    try:
        pay_by = calendar.add(draft.now, step.pay_within)
    except CalendarRangeError:
        raise Refused(
            RefusalCode.OUTSIDE_CALENDAR, step_id=step.id, last_year=calendar.snapshot.last_year
        ) from None
    bill = Bill(
        billing_code=billing_code(draft.before.registration_number, index),
        index=index,
        step_id=step.id,
        attempt=clock.attempt,
        amount=fees.total,
        billed_at=draft.now,
        pay_by=pay_by,
    )
    draft.bills[bill.billing_code] = bill
    facts = {
        "amount": bill.amount,
        "billing_code": bill.billing_code,
        "pay_by": pay_by.isoformat(),
    }
    draft.audit("fee_billed", actor, clock=clock, details={**facts, "currency": bill.currency})
    _notify(draft, "fee_billed", facts)


def _paid(draft: Draft, bill: Bill, payment: BillPayment, actor: Actor) -> None:
    draft.bills[bill.billing_code] = bill.model_copy(
        update={"status": "paid", "closed_at": draft.now, "payment": payment}
    )
    details: dict[str, Any] = {
        "billing_code": bill.billing_code,
        "amount": payment.amount,
        "channel": payment.channel,
        "receipt_number": payment.receipt_number,
    }
    if payment.bank is not None:
        details |= {"bank": payment.bank, "transaction_id": payment.transaction_id}
    draft.audit("payment_received", actor, clock=draft.clocks.get(bill.step_id), details=details)
    _notify(
        draft,
        "payment_received",
        {
            "amount": payment.amount,
            "billing_code": bill.billing_code,
            "receipt_number": payment.receipt_number,
        },
    )


# --- the teller's fallback ------------------------------------------------------------


def check_decision(state: CaseState, request: DecisionRequest) -> None:
    """Approving a billed payment step by hand needs the SSRD's receipt number."""
    if request.outcome != APPROVE or open_bill(state, request.step_id) is None:
        return
    if not request.receipt_number:
        raise Refused(RefusalCode.RECEIPT_NUMBER_REQUIRED, step_id=request.step_id)
    checks.text("receipt_number", request.receipt_number)


def teller_paid(draft: Draft, request: DecisionRequest) -> None:
    """Record the teller's confirmation of a billed payment step's payment (checked)."""
    bill = _bill_of(draft, request.step_id)
    if request.outcome != APPROVE or bill is None or not request.receipt_number:
        return
    payment = BillPayment(
        channel="teller",
        amount=bill.amount,
        receipt_number=request.receipt_number,
        paid_at=draft.now,
        recorded_at=draft.now,
        recorded_by=request.actor.username,
    )
    _paid(draft, bill, payment, request.actor)


# --- the bank's callback --------------------------------------------------------------


def check_payment(state: CaseState, request: PaymentRequest, now: datetime) -> Bill:
    """The open bill ``request`` pays in full before its pay-by date, or a refusal."""
    if request.actor != bank_actor(request.bank):
        raise Refused(RefusalCode.WRONG_ROLE, role=request.actor.role)
    if state.finished:
        raise Refused(RefusalCode.CLOSED, result=state.route.result)
    bill = next((b for b in state.bills if b.billing_code == request.billing_code), None)
    if bill is None:
        raise Refused(RefusalCode.BILL_UNKNOWN, billing_code=request.billing_code)
    if bill.status == "paid":
        raise Refused(RefusalCode.BILL_ALREADY_PAID, billing_code=bill.billing_code)
    if bill.status != "open":
        raise Refused(RefusalCode.BILL_NOT_OPEN, billing_code=bill.billing_code, status=bill.status)
    if now > bill.pay_by:
        raise Refused(
            RefusalCode.BILL_EXPIRED, billing_code=bill.billing_code, pay_by=bill.pay_by.isoformat()
        )
    if request.amount != bill.amount:
        raise Refused(
            RefusalCode.BILL_AMOUNT_MISMATCH,
            billing_code=bill.billing_code,
            amount=request.amount,
            expected=bill.amount,
        )
    checks.text("transaction_id", request.transaction_id)
    return bill


def record_payment(case: Case, state: CaseState, request: PaymentRequest, now: datetime) -> Change:
    """The bank's payment: bill paid, payment step approved by the bank, clock resumed."""
    bill = check_payment(state, request, now)
    draft = Draft(case, state, now)
    payment = BillPayment(
        channel="bank",
        amount=request.amount,
        receipt_number=request.transaction_id,
        paid_at=request.paid_at,
        recorded_at=now,
        recorded_by=request.actor.username,
        bank=request.bank,
        transaction_id=request.transaction_id,
    )
    _paid(draft, bill, payment, request.actor)
    transition = case.stepper.decide(state.route, state.data, bill.step_id, APPROVE)
    note = f"paid at {request.bank}, transaction {request.transaction_id}"
    case._apply(draft, transition, request.actor, note)  # the same path as every decision
    return draft.done()
