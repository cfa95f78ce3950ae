"""Payment callbacks against real PostgreSQL and the time-skipping Temporal server: a valid
payment moves the case on without a teller; a replayed one is answered as before; a wrong
signature, a stale timestamp, a wrong amount, an unknown code, an expired bill are refused
with their code, logged, and change nothing; two callbacks for one bill record one payment;
the teller's fallback needs the receipt number."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket.case.bill import billing_code
from tests.api.harness import Api
from tests.api.payments_support import (
    BANK,
    PTKA_AMOUNT,
    TELLER,
    attempt_outcomes,
    billed_ptka,
    callback,
    case_facts,
    payment,
    payments_api,
)


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> AsyncIterator[Api]:
    async with payments_api(temporal_ts_env.client, db_dsn, task_queue) as running:
        yield running


async def test_a_valid_payment_moves_the_case_on_without_a_teller(api: Api) -> None:
    reg, code = await billed_ptka(api)
    r = await callback(api.http, payment(code))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["replayed"] is False and out["registration_number"] == reg
    assert (out["billing_code"], out["amount"], out["receipt_number"]) == (
        code,
        PTKA_AMOUNT,
        "TX-0001",
    )
    async with api.services.pool.acquire() as conn:
        app = await conn.fetchrow(
            "SELECT current_steps, waiting_for_applicant FROM applications"
            " WHERE registration_number = $1",
            reg,
        )
        task = await conn.fetchrow(
            "SELECT state, outcome, decided_by FROM tasks"
            " WHERE registration_number = $1 AND step_id = 'payment'",
            reg,
        )
        bill = await conn.fetchrow("SELECT status FROM bills WHERE billing_code = $1", code)
        paid = await conn.fetchrow("SELECT * FROM payments WHERE billing_code = $1", code)
        audit = await conn.fetchrow(
            "SELECT seq, actor, details FROM audit_events"
            " WHERE registration_number = $1 AND event = 'payment_received'",
            reg,
        )
        events = [
            r["event"]
            for r in await conn.fetch(
                "SELECT event FROM audit_events WHERE registration_number = $1 ORDER BY seq", reg
            )
        ]
        outbox = await conn.fetchrow(
            "SELECT key, recipient, payload FROM notification_outbox"
            " WHERE registration_number = $1 AND kind = 'payment_received'",
            reg,
        )
    assert list(app["current_steps"]) == ["issuance"] and app["waiting_for_applicant"] is False
    assert tuple(task) == ("done", "approve", f"bank:{BANK}")
    assert bill["status"] == "paid"
    assert (paid["channel"], paid["bank"], paid["transaction_id"], paid["amount"]) == (
        "bank",
        BANK,
        "TX-0001",
        PTKA_AMOUNT,
    )
    assert audit["actor"] == f"bank:{BANK}" and audit["details"]["transaction_id"] == "TX-0001"
    # The paused service clock runs again once the payment closed the step.
    assert events.index("service_clock_resumed") > events.index("payment_received")
    assert outbox["recipient"] == "applicant"
    assert outbox["key"] == f"{reg}:payment_received:{audit['seq']}"
    assert outbox["payload"] == {
        "registration_number": reg,
        "permit_type": "PTKA",
        "amount": PTKA_AMOUNT,
        "billing_code": code,
        "receipt_number": "TX-0001",
    }
    assert await attempt_outcomes(api) == ["accepted"]


async def test_a_replayed_callback_is_answered_as_before_and_records_nothing(api: Api) -> None:
    reg, code = await billed_ptka(api)
    first = await callback(api.http, payment(code))
    assert first.status_code == 200, first.text
    facts = await case_facts(api, reg)
    again = await callback(api.http, payment(code))
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    assert {k: v for k, v in again.json().items() if k != "replayed"} == {
        k: v for k, v in first.json().items() if k != "replayed"
    }
    assert await case_facts(api, reg) == facts
    # The same transaction ID for another amount is not a replay: refused, nothing changes.
    other = await callback(api.http, payment(code, amount=PTKA_AMOUNT + 1))
    assert other.status_code == 409 and other.json()["code"] == "payment_transaction_reused"
    assert await case_facts(api, reg) == facts
    assert await attempt_outcomes(api) == ["accepted", "replayed", "payment_transaction_reused"]


async def test_a_wrong_signature_or_a_stale_timestamp_is_refused(api: Api) -> None:
    reg, code = await billed_ptka(api)
    facts = await case_facts(api, reg)
    wrong = await callback(api.http, payment(code), secret="not-the-bank-secret-at-all-xxxxxxx")
    assert wrong.status_code == 401 and wrong.json()["code"] == "payment_signature_invalid"
    bare = await api.http.post(f"/api/payments/callback/{BANK}", json=payment(code))
    assert bare.status_code == 401 and bare.json()["code"] == "payment_signature_invalid"
    stale = await callback(api.http, payment(code), timestamp=int(time.time()) - 3600)
    assert stale.status_code == 401 and stale.json()["code"] == "payment_timestamp_stale"
    future = await callback(api.http, payment(code), timestamp=int(time.time()) + 3600)
    assert future.status_code == 401 and future.json()["code"] == "payment_timestamp_stale"
    unknown = await callback(api.http, payment(code), bank="bank_nope")
    assert unknown.status_code == 404 and unknown.json()["code"] == "payment_bank_unknown"
    assert await case_facts(api, reg) == facts
    assert await attempt_outcomes(api) == [
        "payment_signature_invalid",
        "payment_signature_invalid",
        "payment_timestamp_stale",
        "payment_timestamp_stale",
        "payment_bank_unknown",
    ]


async def test_a_wrong_amount_or_an_unknown_code_is_refused(api: Api) -> None:
    reg, code = await billed_ptka(api)
    facts = await case_facts(api, reg)
    for amount in (PTKA_AMOUNT - 1, PTKA_AMOUNT + 100):
        r = await callback(api.http, payment(code, amount=amount, tx=f"TX-{amount}"))
        assert r.status_code == 422 and r.json()["code"] == "bill_amount_mismatch"
        assert r.json()["params"]["expected"] == PTKA_AMOUNT
    # A code with valid check digits that no bill has, one with a mistyped digit, nonsense.
    never_issued = billing_code("PTKA-2026-999999", 1)
    typo = code[:-3] + str((int(code[-3]) + 1) % 10) + code[-2:]
    for other in (never_issued, typo):
        r = await callback(api.http, payment(other, tx=f"TX-{other[-4:]}"))
        assert r.status_code == 404 and r.json()["code"] == "bill_unknown", other
    r = await callback(api.http, payment("12ab", tx="TX-x"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "billing_code"
    # An instant the timestamptz column could not hold is refused at the edge, by field.
    odd = {**payment(code, tx="TX-y"), "paid_at": "9999-12-31T23:59:59-12:00"}
    r = await callback(api.http, odd)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "paid_at"
    assert await case_facts(api, reg) == facts
    assert await attempt_outcomes(api) == [
        "bill_amount_mismatch",
        "bill_amount_mismatch",
        "bill_unknown",
        "bill_unknown",
        "invalid_request",
        "invalid_request",
    ]


async def test_two_callbacks_for_one_bill_record_exactly_one_payment(api: Api) -> None:
    reg, code = await billed_ptka(api)
    answers = await asyncio.gather(
        *(callback(api.http, payment(code, tx=f"TX-RACE-{i}")) for i in range(4))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 409, 409, 409], [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"bill_already_paid"}
    facts = await case_facts(api, reg)
    assert facts["payments"] == 1 and facts["bills"] == [(code, "paid")]
    assert sorted(await attempt_outcomes(api)) == ["accepted"] + ["bill_already_paid"] * 3


async def test_the_teller_confirms_by_hand_with_the_receipt_number(api: Api) -> None:
    reg, code = await billed_ptka(api)
    url = f"/api/staff/tasks/{reg}/payment/decide"
    r = await api.as_user(TELLER, "POST", url, {"outcome": "approve"})
    assert r.status_code == 422 and r.json()["code"] == "receipt_number_required"
    assert r.json()["errors"][0]["field"] == "receipt_number"
    r = await api.as_user(
        TELLER, "POST", url, {"outcome": "approve", "receipt_number": "SSRD/2026/0042"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["bills"][0]["status"] == "paid"
    async with api.services.pool.acquire() as conn:
        paid = await conn.fetchrow("SELECT * FROM payments WHERE billing_code = $1", code)
    assert (paid["channel"], paid["receipt_number"], paid["recorded_by"]) == (
        "teller",
        "SSRD/2026/0042",
        TELLER,
    )
    # Paid by hand: the bank's later callback is refused, nothing more is recorded.
    late = await callback(api.http, payment(code, tx="TX-LATE"))
    assert late.status_code == 409 and late.json()["code"] == "bill_already_paid"


async def test_a_bill_past_its_pay_by_date_is_refused(
    temporal_ts_env_fresh: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    env = temporal_ts_env_fresh
    async with payments_api(env.client, db_dsn, task_queue) as api:
        reg, code = await billed_ptka(api)
        await env.sleep(timedelta(days=14))  # 7 working days and then some
        facts = await case_facts(api, reg)
        r = await callback(api.http, payment(code))
        assert r.status_code == 409 and r.json()["code"] == "bill_expired", r.text
        assert await case_facts(api, reg) == facts
        assert await attempt_outcomes(api) == ["bill_expired"]
        async with api.services.pool.acquire() as conn:
            reminded = await conn.fetch(
                "SELECT kind, recipient FROM notification_outbox WHERE registration_number = $1"
                " AND kind IN ('payment_reminder', 'notify') ORDER BY created_at",
                reg,
            )
        # The payment step's ladder: the applicant reminded, then the agency head told.
        assert [tuple(r) for r in reminded] == [
            ("payment_reminder", "applicant"),
            ("notify", "head:bank"),
        ]
