"""Reconciliation of a bank statement against the payments and bills in the store: the
queries; the matching is ``loket.payment_statement.match`` (pure)."""

from __future__ import annotations

from datetime import datetime

from loket.payment_statement import BillFacts, RecordedPayment, Report, Statement, match
from loket.store import billing
from loket.store.db import Conn


def _recorded(row: billing.PaymentRow) -> RecordedPayment:
    return RecordedPayment(
        transaction_id=row.transaction_id or "",
        billing_code=row.billing_code,
        registration_number=row.registration_number,
        amount=row.amount,
        paid_at=row.paid_at,
    )


async def reconcile(
    conn: Conn,
    bank: str,
    statement: Statement,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """Match ``statement`` (of ``bank``) against Loket's payments in its period (the
    statement's first and last payment unless ``since``/``until`` say otherwise)."""
    first, last = statement.period() or (None, None)
    start, end = since or first, until or last
    period = (start, end) if start is not None and end is not None else None
    recorded = await billing.bank_payments(conn, bank, *period) if period else []
    keys = [(bank, r.transaction_id) for r in statement.rows]
    by_transaction = await billing.payments_by_transaction(conn, keys)
    bills = await billing.bills_by_code(conn, [r.billing_code for r in statement.rows])
    return match(
        bank,
        statement,
        recorded=[_recorded(r) for r in recorded],
        by_transaction={tx: _recorded(p) for (_, tx), p in by_transaction.items()},
        bills={
            code: BillFacts(
                billing_code=code,
                registration_number=b.registration_number,
                amount=b.amount,
                status=b.status,
                overdue=b.overdue,
            )
            for code, b in bills.items()
        },
        period=period,
    )
