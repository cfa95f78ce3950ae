"""Bills, payments and payment attempts (issue 11, migration 010_billing.sql).

Bills and payments are written only by the record activity (``apply_batch`` calls
:func:`write_bills` inside its transaction); the payments table's unique constraints are
the database's half of "one payment per bill". Payment attempts are the callback
service's log: every callback, whatever its outcome, for reconciliation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from loket.case.bill import Bill, BillStatus, Channel
from loket.fees import FeeAssessment, assess
from loket.route.model import PermitType
from loket.store.db import Conn


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class BillRow(_Row):
    billing_code: str
    registration_number: str
    permit_type: str
    bill_index: int
    step_id: str
    amount: int
    currency: str
    billed_at: datetime
    pay_by: datetime
    status: BillStatus
    closed_at: datetime | None
    overdue: bool  # open and past its pay-by date (at the database's now())


class PaymentRow(_Row):
    billing_code: str
    registration_number: str
    channel: Channel
    bank: str | None
    transaction_id: str | None
    receipt_number: str
    amount: int
    paid_at: datetime
    recorded_at: datetime
    recorded_by: str


class AttemptRow(_Row):
    id: int
    received_at: datetime
    bank: str
    outcome: str
    transaction_id: str | None
    billing_code: str | None
    amount: int | None
    registration_number: str | None


_UPSERT_BILL = """
INSERT INTO bills AS b (billing_code, registration_number, bill_index, step_id, attempt, amount,
    currency, billed_at, pay_by, status, closed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (billing_code) DO UPDATE SET
    status = EXCLUDED.status, closed_at = EXCLUDED.closed_at, updated_at = now()
"""

# A plain INSERT: a second payment of a bill (or a transaction used twice) breaks a unique
# constraint, which the record activity reports as refused for good; never swallowed.
_INSERT_PAYMENT = """
INSERT INTO payments (billing_code, registration_number, channel, bank, transaction_id,
    receipt_number, amount, paid_at, recorded_at, recorded_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""


async def write_bills(conn: Conn, registration_number: str, bills: Sequence[Bill]) -> None:
    """The bills a batch issued or changed, and the payment of each one it paid."""
    if not bills:
        return
    await conn.executemany(
        _UPSERT_BILL,
        [
            (
                b.billing_code,
                registration_number,
                b.index,
                b.step_id,
                b.attempt,
                b.amount,
                b.currency,
                b.billed_at,
                b.pay_by,
                b.status,
                b.closed_at,
            )
            for b in bills
        ],
    )
    paid = [b for b in bills if b.payment is not None]
    await conn.executemany(
        _INSERT_PAYMENT,
        [
            (
                b.billing_code,
                registration_number,
                p.channel,
                p.bank,
                p.transaction_id,
                p.receipt_number,
                p.amount,
                p.paid_at,
                p.recorded_at,
                p.recorded_by,
            )
            for b in paid
            if (p := b.payment) is not None
        ],
    )


_BILL_COLUMNS = """
    b.billing_code, b.registration_number, a.permit_type, b.bill_index, b.step_id, b.amount,
    b.currency, b.billed_at, b.pay_by, b.status, b.closed_at,
    (b.status = 'open' AND b.pay_by < now()) AS overdue
"""


async def bill(conn: Conn, billing_code: str) -> BillRow | None:
    row = await conn.fetchrow(
        f"SELECT {_BILL_COLUMNS} FROM bills b JOIN applications a USING (registration_number)"
        " WHERE b.billing_code = $1",
        billing_code,
    )
    return BillRow(**dict(row)) if row else None


async def bills_of(conn: Conn, registration_number: str) -> list[BillRow]:
    rows = await conn.fetch(
        f"SELECT {_BILL_COLUMNS} FROM bills b JOIN applications a USING (registration_number)"
        " WHERE b.registration_number = $1 ORDER BY b.bill_index",
        registration_number,
    )
    return [BillRow(**dict(r)) for r in rows]


_PAYMENT_COLUMNS = """
    billing_code, registration_number, channel, bank, transaction_id, receipt_number, amount,
    paid_at, recorded_at, recorded_by
"""


async def payment_of_transaction(conn: Conn, bank: str, transaction_id: str) -> PaymentRow | None:
    row = await conn.fetchrow(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE bank = $1 AND transaction_id = $2",
        bank,
        transaction_id,
    )
    return PaymentRow(**dict(row)) if row else None


async def payment_of_bill(conn: Conn, billing_code: str) -> PaymentRow | None:
    row = await conn.fetchrow(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE billing_code = $1", billing_code
    )
    return PaymentRow(**dict(row)) if row else None


async def bank_payments(
    conn: Conn, bank: str | None, since: datetime, until: datetime
) -> list[PaymentRow]:
    """Payments by bank callback paid in [since, until] (every bank when ``bank`` is None)."""
    rows = await conn.fetch(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE channel = 'bank'"
        " AND ($1::text IS NULL OR bank = $1) AND paid_at BETWEEN $2 AND $3"
        " ORDER BY paid_at, transaction_id",
        bank,
        since,
        until,
    )
    return [PaymentRow(**dict(r)) for r in rows]


async def bills_by_code(conn: Conn, codes: Sequence[str]) -> dict[str, BillRow]:
    rows = await conn.fetch(
        f"SELECT {_BILL_COLUMNS} FROM bills b JOIN applications a USING (registration_number)"
        " WHERE b.billing_code = ANY($1::text[])",
        list(codes),
    )
    return {r["billing_code"]: BillRow(**dict(r)) for r in rows}


async def payments_by_transaction(
    conn: Conn, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], PaymentRow]:
    """Payments of the given (bank, transaction ID) pairs."""
    rows = await conn.fetch(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments"
        " WHERE (bank, transaction_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["bank"], r["transaction_id"]): PaymentRow(**dict(r)) for r in rows}


Outcome = Literal["accepted", "replayed"] | str


async def log_attempt(
    conn: Conn,
    *,
    bank: str,
    outcome: Outcome,
    body_sha256: str,
    transaction_id: str | None = None,
    billing_code: str | None = None,
    amount: int | None = None,
    registration_number: str | None = None,
    client_ip: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO payment_attempts (bank, outcome, transaction_id, billing_code, amount,"
        " registration_number, client_ip, body_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        bank,
        outcome,
        transaction_id,
        billing_code,
        amount,
        registration_number,
        client_ip,
        body_sha256,
    )


async def attempts(
    conn: Conn, *, bank: str | None = None, transaction_id: str | None = None, limit: int = 100
) -> list[AttemptRow]:
    """The latest callbacks first."""
    rows = await conn.fetch(
        "SELECT id, received_at, bank, outcome, transaction_id, billing_code, amount,"
        " registration_number FROM payment_attempts"
        " WHERE ($1::text IS NULL OR bank = $1) AND ($2::text IS NULL OR transaction_id = $2)"
        " ORDER BY received_at DESC, id DESC LIMIT $3",
        bank,
        transaction_id,
        limit,
    )
    return [AttemptRow(**dict(r)) for r in rows]


# --- the applicant's view of the fee (tracking, issue 10 §3) ----------------------------

FeeKind = Literal["free", "waived", "no_fee", "not_assessed", "assessed", "billed"]


class FeeState(_Row):
    """What the tracking page says of the fee: Gratis, dibebaskan and why, or the SKRD."""

    state: FeeKind
    basis: str | None = None  # why free, or the waiver's legal basis
    amount: int | None = None
    billing_code: str | None = None
    pay_by: datetime | None = None
    status: Literal["open", "overdue", "paid", "cancelled"] | None = None
    receipt_number: str | None = None
    paid_at: datetime | None = None


def _waiver_bases(fees: FeeAssessment) -> str | None:
    bases = dict.fromkeys(line.waiver_basis for line in fees.lines if line.waived)
    return "; ".join(b for b in bases if b) or None


async def fee_state(
    conn: Conn,
    registration_number: str,
    fees: FeeAssessment | None,
    permit: PermitType | None,
    data: Mapping[str, object],
) -> FeeState:
    if (permit is not None and permit.fees.free) or (fees is not None and fees.free):
        basis = fees.free_basis if fees is not None else None
        return FeeState(state="free", basis=basis or (permit.fees.free_basis if permit else None))
    if fees is None and permit is not None:
        # Not assessed (yet, or never: an MBR file skips the assessment). The published
        # formula says whether a waiver leaves nothing to pay.
        try:
            preview = assess(permit.fees, data)
        except (ArithmeticError, ValueError):
            return FeeState(state="not_assessed")
        if preview.total == 0 and _waiver_bases(preview):
            return FeeState(state="waived", basis=_waiver_bases(preview), amount=0)
        return FeeState(state="not_assessed")
    if fees is None:
        return FeeState(state="not_assessed")
    if fees.total == 0:
        basis = _waiver_bases(fees)
        return FeeState(state="waived" if basis else "no_fee", basis=basis, amount=0)
    bills = await bills_of(conn, registration_number)
    if not bills:
        return FeeState(state="assessed", amount=fees.total, basis=_waiver_bases(fees))
    last = bills[-1]
    paid = await payment_of_bill(conn, last.billing_code) if last.status == "paid" else None
    return FeeState(
        state="billed",
        basis=_waiver_bases(fees),
        amount=last.amount,
        billing_code=last.billing_code,
        pay_by=last.pay_by,
        status="overdue" if last.overdue else last.status,
        receipt_number=paid.receipt_number if paid else None,
        paid_at=paid.paid_at if paid else None,
    )


async def open_bill_of_step(conn: Conn, registration_number: str, step_id: str) -> BillRow | None:
    """The bill a payment step waits for (the teller's task page shows it)."""
    bills = await bills_of(conn, registration_number)
    return next((b for b in bills if b.step_id == step_id and b.status == "open"), None)
