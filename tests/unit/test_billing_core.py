"""Billing in the pure case core: billing codes (MOD 97-10), bills issued at the payment
step, a bank's payment, the teller's fallback, cancellation and the applicant's reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.calendar import WorkCalendar, WorkDuration, calendar_for
from loket.calendar_data import covered_years, load_calendar
from loket.case import escalation, records
from loket.case.bill import billing_code, check_digits, is_valid_code
from loket.case.billing import PaymentRequest, bank_actor, record_payment
from loket.case.core import Case
from loket.case.messages import Actor, CancelRequest, DecisionRequest
from loket.case.state import CaseState
from loket.refusal import RefusalCode, Refused
from loket.route.form import normalize
from loket.route.loader import load_catalog
from loket.route.validate import check_permit
from tests.support import PBG_FORM

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
CATALOG = load_catalog(DEFINITIONS)
CALENDAR: WorkCalendar = calendar_for(load_calendar(DEFINITIONS, *covered_years(DEFINITIONS)))
PTKA = CATALOG.permit("PTKA")
START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # Monday 08:30 WIB
APPLICANT = Actor(username="applicant:x", role="applicant")
STAFF = Actor(username="sari", role="staff", counters=("disnaker/foreign_workers",))
TELLER = Actor(username="teller", role="staff", counters=("bank/payment",))
PTKA_FORM = {"employer_name": "PT Maju", "worker_name": "John", "position": "Engineer", "months": 6}
REG = "PTKA-2026-000042"

registrations = st.builds(
    lambda t, y, n: f"{t}-{y:04d}-{n:06d}",
    st.from_regex(r"[A-Z][A-Z0-9]{1,11}", fullmatch=True),
    st.integers(2000, 2999),
    st.integers(0, 999_999),
)


# --- the billing code ------------------------------------------------------------------


@given(reg=registrations, index=st.integers(1, 99))
def test_every_billing_code_is_valid_and_differs_per_bill(reg: str, index: int) -> None:
    code = billing_code(reg, index)
    assert is_valid_code(code)
    assert code != billing_code(reg, index % 99 + 1)


@given(reg=registrations, index=st.integers(1, 99), data=st.data())
def test_every_single_digit_error_is_detected(reg: str, index: int, data: st.DataObject) -> None:
    code = billing_code(reg, index)
    at = data.draw(st.integers(0, len(code) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != code[at]]))
    assert not is_valid_code(code[:at] + digit + code[at + 1 :])


@given(reg=registrations, index=st.integers(1, 99), data=st.data())
def test_every_adjacent_swap_is_detected(reg: str, index: int, data: st.DataObject) -> None:
    code = billing_code(reg, index)
    swaps = [i for i in range(len(code) - 1) if code[i] != code[i + 1]]
    if not swaps:
        return
    i = data.draw(st.sampled_from(swaps))
    assert not is_valid_code(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


def test_the_code_of_a_known_registration() -> None:
    # P=25, B=11, G=16, year, sequence, bill 01, then 98 - (payload * 100 mod 97).
    payload = "251116" + "2026" + "000123" + "01"
    assert billing_code("PBG-2026-000123", 1) == payload + check_digits(payload)
    assert int(billing_code("PBG-2026-000123", 1)) % 97 == 1
    with pytest.raises(ValueError):
        billing_code("PBG-2026-000123", 100)


def test_codes_of_different_permit_types_never_collide() -> None:
    # Two-digit characters: "A1" + "B" and "AB" + "1" would collide with one-digit ones.
    codes = {billing_code(f"{t}-2026-000001", 1) for t in ("A1B", "AB1", "AB", "A1", "PBG")}
    assert len(codes) == 5


# --- the case core -----------------------------------------------------------------------


def _billed() -> tuple[Case, CaseState]:
    case = Case(PTKA, CALENDAR)
    state = case.start(REG, dict(normalize(PTKA, PTKA_FORM)), APPLICANT, START).state
    change = case.decide(
        state, DecisionRequest(step_id="verification", outcome="approve", actor=STAFF), START
    )
    assert change.batch is not None
    return case, change.state


def _pay(code: str, amount: int, tx: str = "TX1", bank: str = "bjb") -> PaymentRequest:
    return PaymentRequest(
        bank=bank,
        transaction_id=tx,
        billing_code=code,
        amount=amount,
        paid_at=START,
        actor=bank_actor(bank),
    )


def test_the_payment_step_bills_with_code_amount_and_pay_by() -> None:
    case, state = _billed()
    (bill,) = state.bills
    assert bill.billing_code == billing_code(REG, 1)
    assert bill.amount == 6 * 1_500_000 == state.fees.total  # type: ignore[union-attr]
    assert bill.pay_by == CALENDAR.add(START, WorkDuration(working_days=7))
    assert bill.status == "open" and bill.step_id == "payment"
    assert records.view(case, state).bills == state.bills


def test_fee_billed_is_audited_and_notified_by_contract() -> None:
    case = Case(PTKA, CALENDAR)
    state = case.start(REG, dict(normalize(PTKA, PTKA_FORM)), APPLICANT, START).state
    change = case.decide(
        state, DecisionRequest(step_id="verification", outcome="approve", actor=STAFF), START
    )
    batch = change.batch
    assert batch is not None
    billed = next(e for e in batch.audit if e.event == "fee_billed")
    (note,) = [n for n in batch.notifications if n.kind == "fee_billed"]
    assert note.recipient == "applicant"
    assert note.key == f"{REG}:fee_billed:{billed.seq}"
    assert note.payload == {
        "registration_number": REG,
        "permit_type": "PTKA",
        "amount": 9_000_000,
        "billing_code": billing_code(REG, 1),
        "pay_by": change.state.bills[0].pay_by.isoformat(),
    }
    assert batch.bills == change.state.bills


def test_a_bank_payment_closes_the_step_and_resumes_the_clock() -> None:
    case, state = _billed()
    assert state.service.paused
    code = state.bills[0].billing_code
    change = record_payment(case, state, _pay(code, 9_000_000), START + timedelta(hours=1))
    after = change.state
    assert after.bills[0].status == "paid"
    assert after.bills[0].payment is not None
    assert after.bills[0].payment.transaction_id == "TX1"
    assert [c.step_id for c in after.clocks] == ["issuance"]
    assert not after.service.paused
    batch = change.batch
    assert batch is not None
    events = [e.event for e in batch.audit]
    assert events[:2] == ["payment_received", "step_decided"]
    assert "service_clock_resumed" in events
    paid = batch.audit[0]
    assert paid.actor == "bank:bjb" and paid.details["transaction_id"] == "TX1"
    (note,) = [n for n in batch.notifications if n.kind == "payment_received"]
    assert note.key == f"{REG}:payment_received:{paid.seq}"
    assert note.payload["receipt_number"] == "TX1" and note.payload["amount"] == 9_000_000
    # The second payment of the same bill is refused by the case core itself.
    with pytest.raises(Refused) as refused:
        record_payment(case, after, _pay(code, 9_000_000, tx="TX2"), START)
    assert refused.value.code is RefusalCode.BILL_ALREADY_PAID


@pytest.mark.parametrize(
    ("amount", "code", "later", "expected"),
    [
        (8_999_999, None, 0, RefusalCode.BILL_AMOUNT_MISMATCH),
        (9_000_001, None, 0, RefusalCode.BILL_AMOUNT_MISMATCH),
        (9_000_000, "251116202600012301", 0, RefusalCode.BILL_UNKNOWN),
        (9_000_000, None, 8, RefusalCode.BILL_EXPIRED),
    ],
)
def test_a_payment_that_does_not_fit_the_bill_is_refused(
    amount: int, code: str | None, later: int, expected: RefusalCode
) -> None:
    case, state = _billed()
    now = CALENDAR.add(START, WorkDuration(working_days=later)) if later else START
    with pytest.raises(Refused) as refused:
        record_payment(case, state, _pay(code or state.bills[0].billing_code, amount), now)
    assert refused.value.code is expected


def test_a_paid_bill_refuses_a_second_payment_while_the_case_runs() -> None:
    case, state = _billed()
    paid = state.model_copy(
        update={"bills": (state.bills[0].model_copy(update={"status": "paid"}),)}
    )
    with pytest.raises(Refused) as refused:
        record_payment(case, paid, _pay(state.bills[0].billing_code, 9_000_000, "TX2"), START)
    assert refused.value.code is RefusalCode.BILL_ALREADY_PAID


def test_the_teller_needs_the_receipt_number() -> None:
    case, state = _billed()
    bare = DecisionRequest(step_id="payment", outcome="approve", actor=TELLER)
    with pytest.raises(Refused) as refused:
        case.decide(state, bare, START)
    assert refused.value.code is RefusalCode.RECEIPT_NUMBER_REQUIRED
    with_receipt = bare.model_copy(update={"receipt_number": "SSRD-2026-77"})
    change = case.decide(state, with_receipt, START)
    bill = change.state.bills[0]
    assert bill.status == "paid" and bill.payment is not None
    assert bill.payment.channel == "teller" and bill.payment.receipt_number == "SSRD-2026-77"
    # "unpaid" needs no receipt and cancels the bill.
    unpaid = case.decide(state, bare.model_copy(update={"outcome": "unpaid"}), START)
    assert unpaid.state.bills[0].status == "cancelled"


def test_a_cancelled_application_cancels_its_open_bill() -> None:
    case, state = _billed()
    admin = Actor(username="admin", role="admin")
    change = case.cancel(state, CancelRequest(reason="duplikat", actor=admin), START)
    assert change.state.bills[0].status == "cancelled"
    with pytest.raises(Refused):
        record_payment(case, change.state, _pay(state.bills[0].billing_code, 9_000_000), START)


def test_a_waiver_or_a_free_license_never_bills() -> None:
    pbg = CATALOG.permit("PBG")
    case = Case(pbg, CALENDAR)
    data = dict(normalize(pbg, {**PBG_FORM, "is_mbr": True, "building_area_m2": 80}))
    state = case.start("PBG-2026-000007", data, APPLICANT, START).state
    sup = Actor(username="s", role="supervisor", agency="x")
    for _ in range(10):
        clock = state.clocks[0]
        if case.graph.task(clock.step_id).issues_permit:
            break  # every step that could bill is behind it (issuing needs its number)
        agency = case.graph.task(clock.step_id).agency
        actor = sup.model_copy(update={"agency": agency, "username": f"s-{agency}"})
        request = DecisionRequest(step_id=clock.step_id, outcome="approve", actor=actor)
        state = case.decide(state, request, START).state
    assert state.clocks[0].step_id == "issuance" and state.bills == ()
    sip = CATALOG.permit("SIP")
    assert all(getattr(s, "pay_within", None) is None for s in sip.steps)


def test_the_ladder_of_a_billed_payment_step_reminds_the_applicant() -> None:
    case, state = _billed()
    due = escalation.next_due(case, state)
    assert due is not None
    step_id, index, at = due
    assert (step_id, index) == ("payment", 0)
    assert START < at < state.bills[0].pay_by
    change = escalation.escalate_due(case, state, at)
    batch = change.batch
    assert batch is not None
    (note,) = batch.notifications
    fired = next(e for e in batch.audit if e.event == "step_escalated")
    assert note.kind == "payment_reminder" and note.recipient == "applicant"
    assert note.key == f"{REG}:payment_reminder:{fired.seq}"
    assert note.payload == {
        "registration_number": REG,
        "permit_type": "PTKA",
        "billing_code": state.bills[0].billing_code,
        "amount": 9_000_000,
        "pay_by": state.bills[0].pay_by.isoformat(),
    }
    # Then the route's rule: the agency head at the pay-by date.
    nxt = escalation.next_due(case, change.state)
    assert nxt is not None and nxt[1] == 1 and nxt[2] == state.bills[0].pay_by


def test_validation_of_the_payment_step() -> None:
    agencies = CATALOG.agencies
    assert check_permit(PTKA, agencies) == []
    steps = list(PTKA.steps)
    running = steps[1].model_copy(update={"clock": "running"})
    broken = PTKA.model_copy(update={"steps": [steps[0], running, steps[2]]})
    assert (
        "steps[1].pay_within",
        "a payment step waits on the applicant: give it 'clock: paused'",
    ) in check_permit(broken, agencies)
    reminder = steps[1].escalation[0]  # type: ignore[index]
    nagging = steps[2].model_copy(update={"escalation": [reminder]})
    broken = PTKA.model_copy(update={"steps": [steps[0], steps[1], nagging]})
    paths = [p for p, _ in check_permit(broken, agencies)]
    assert paths == ["steps[2].escalation[0].to"]


def test_production_refuses_placeholder_or_short_bank_secrets() -> None:
    from pydantic import ValidationError

    from loket.settings import PLACEHOLDER_BANK_SECRET, Settings

    real = "k" * 40
    assert Settings(env="development").payment_banks["demo"].get_secret_value() == (
        PLACEHOLDER_BANK_SECRET
    )
    for banks in ({"demo": PLACEHOLDER_BANK_SECRET}, {"bjb": "short"}):
        with pytest.raises(ValidationError, match="LOKET_PAYMENT_BANKS"):
            Settings(env="production", secret_key=real, payment_banks=banks)
    with pytest.raises(ValidationError, match="bank name"):
        Settings(payment_banks={"Bad Name": real})
    ok = Settings(env="production", secret_key=real, payment_banks={"bjb": real})
    assert ok.payment_banks["bjb"].get_secret_value() == real
    # Production without banks starts, with no channel (the demo bank stays in development).
    assert Settings(env="production", secret_key=real).payment_banks == {}
