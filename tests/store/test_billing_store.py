"""The bills and payments tables under the record batch: a billed case written as the case
core built it, and the database's own refusal of a second payment for one bill or one bank
transaction for two bills (the record activity reports those as refused for good)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
import pytest_asyncio

from loket.case.bill import BillPayment, billing_code
from loket.case.billing import PaymentRequest, bank_actor, record_payment
from loket.store import billing
from loket.store.db import create_pool
from loket.store.records import apply_batch
from tests.unit.test_billing_core import REG, START, _billed

LATER = START + timedelta(hours=2)


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_dsn)
    yield pool
    await pool.close()


async def test_a_billed_and_paid_case_is_written_once_per_bill(pool: asyncpg.Pool) -> None:
    from loket.case.core import Case
    from loket.case.messages import Actor, DecisionRequest
    from loket.route.form import normalize
    from tests.unit.test_billing_core import APPLICANT, CALENDAR, PTKA, PTKA_FORM

    # The same changes as _billed(), batch by batch, into the store.
    case = Case(PTKA, CALENDAR)
    started = case.start(REG, dict(normalize(PTKA, PTKA_FORM)), APPLICANT, START)
    staff = Actor(username="sari", role="staff", counters=("disnaker/foreign_workers",))
    verified = case.decide(
        started.state,
        DecisionRequest(step_id="verification", outcome="approve", actor=staff),
        START,
    )
    request = PaymentRequest(
        bank="bjb",
        transaction_id="TX-1",
        billing_code=verified.state.bills[0].billing_code,
        amount=verified.state.bills[0].amount,
        paid_at=LATER,
        actor=bank_actor("bjb"),
    )
    paid = record_payment(case, verified.state, request, LATER)
    for change in (started, verified, paid):
        assert change.batch is not None
        assert await apply_batch(pool, change.batch) is True
        assert await apply_batch(pool, change.batch) is False  # a retry writes nothing
    code = verified.state.bills[0].billing_code
    async with pool.acquire() as conn:
        row = await billing.bill(conn, code)
        payment = await billing.payment_of_transaction(conn, "bjb", "TX-1")
        state = await billing.fee_state(conn, REG, verified.state.fees, PTKA, {})
    assert row is not None and row.status == "paid" and row.amount == 9_000_000
    assert payment is not None and payment.billing_code == code and payment.receipt_number == "TX-1"
    assert (state.state, state.status, state.receipt_number) == ("billed", "paid", "TX-1")

    # Below the case core: a second payment of the bill, or the transaction used twice.
    bill = paid.state.bills[0]
    assert bill.payment is not None
    other = bill.model_copy(
        update={"payment": bill.payment.model_copy(update={"transaction_id": "TX-2"})}
    )
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.UniqueViolationError):
            await billing.write_bills(conn, REG, [other])
        count = await conn.fetchval("SELECT count(*) FROM payments WHERE billing_code = $1", code)
    assert count == 1


async def test_one_transaction_cannot_pay_two_bills(pool: asyncpg.Pool) -> None:
    _, state = _billed()
    bill = state.bills[0]
    payment = BillPayment(
        channel="bank",
        amount=bill.amount,
        receipt_number="TX-9",
        paid_at=LATER,
        recorded_at=LATER,
        recorded_by="bank:bjb",
        bank="bjb",
        transaction_id="TX-9",
    )
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO applications (registration_number, permit_type, route_version, status,"
            " data, submitted_at, calendar_version) VALUES ($1, 'PTKA', 1, 'in_progress', '{}',"
            " $2, 'c'), ($3, 'PTKA', 1, 'in_progress', '{}', $2, 'c')",
            REG,
            START,
            "PTKA-2026-000043",
        )
        first = bill.model_copy(update={"status": "paid", "payment": payment})
        await billing.write_bills(conn, REG, [first])
        second = first.model_copy(update={"billing_code": billing_code("PTKA-2026-000043", 1)})
        with pytest.raises(asyncpg.UniqueViolationError):
            await billing.write_bills(conn, "PTKA-2026-000043", [second])
