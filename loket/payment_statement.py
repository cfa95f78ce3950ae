"""A bank statement export and its reconciliation against the payments Loket recorded.

Pure: parsing and matching, no I/O (``loket.store.reconcile`` reads the payments and bills
to match against). The CSV shape (docs/payments.md), one row per credited transaction,
UTF-8, comma-separated, a header row naming at least these columns (others are ignored):

    transaction_id,billing_code,amount,paid_at
    TX-0001,2529201020260000420194,9000000,2026-03-02T10:15:00+07:00

``amount`` in whole rupiah (``9000000`` or ``9000000.00``); ``paid_at`` ISO 8601, WIB
(+07:00) when it names no offset.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

COLUMNS = ("transaction_id", "billing_code", "amount", "paid_at")
WIB = timezone(timedelta(hours=7))
_AMOUNT = re.compile(r"^[0-9]{1,19}(?:\.0{1,2})?$")
_TRANSACTION = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_CODE = re.compile(r"^[0-9]{1,40}$")
MAX_ROWS = 100_000

Kind = Literal["paid_not_recorded", "recorded_not_in_statement", "amount_mismatch", "invalid_row"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class StatementRow(_Frozen):
    line: int
    transaction_id: str
    billing_code: str
    amount: int
    paid_at: datetime


class Statement(_Frozen):
    rows: tuple[StatementRow, ...]
    problems: tuple[tuple[int, str], ...] = ()  # (line, what is wrong)

    def period(self) -> tuple[datetime, datetime] | None:
        if not self.rows:
            return None
        return min(r.paid_at for r in self.rows), max(r.paid_at for r in self.rows)


class RecordedPayment(_Frozen):
    """A payment as Loket recorded it (the store's row, as far as matching needs)."""

    transaction_id: str
    billing_code: str
    registration_number: str
    amount: int
    paid_at: datetime


class BillFacts(_Frozen):
    billing_code: str
    registration_number: str
    amount: int
    status: str
    overdue: bool


class Mismatch(_Frozen):
    kind: Kind
    line: int | None = None
    transaction_id: str | None = None
    billing_code: str | None = None
    registration_number: str | None = None
    statement_amount: int | None = None
    recorded_amount: int | None = None
    detail: str = ""


class Report(_Frozen):
    bank: str
    since: datetime | None
    until: datetime | None
    statement_rows: int
    recorded_payments: int = Field(description="bank payments Loket recorded in the period")
    matched: int
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def count(self, kind: Kind) -> int:
        return sum(1 for m in self.mismatches if m.kind == kind)


def _row(line: int, raw: Mapping[str, str | None]) -> StatementRow | str:
    values = {c: (raw.get(c) or "").strip() for c in COLUMNS}
    if not _TRANSACTION.match(values["transaction_id"]):
        return "transaction_id: 1-64 letters, digits or . _ : -"
    if not _CODE.match(values["billing_code"]):
        return "billing_code: digits only"
    if not _AMOUNT.match(values["amount"]):
        return "amount: whole rupiah"
    try:
        paid_at = datetime.fromisoformat(values["paid_at"])
    except ValueError:
        return "paid_at: not an ISO 8601 date and time"
    return StatementRow(
        line=line,
        transaction_id=values["transaction_id"],
        billing_code=values["billing_code"],
        amount=int(values["amount"].split(".")[0]),
        paid_at=paid_at if paid_at.tzinfo else paid_at.replace(tzinfo=WIB),
    )


def parse_statement(text: str) -> Statement:
    """Rows and, per line, what is wrong with the others; ValueError without the columns."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"the statement has no column {', '.join(missing)} (need {COLUMNS})")
    rows: list[StatementRow] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if len(rows) + len(problems) >= MAX_ROWS:
            raise ValueError(f"the statement has more than {MAX_ROWS} rows; split it")
        parsed = _row(line, raw)
        if isinstance(parsed, str):
            problems.append((line, parsed))
        elif parsed.transaction_id in seen:
            problems.append((line, f"transaction repeated from line {seen[parsed.transaction_id]}"))
        else:
            seen[parsed.transaction_id] = line
            rows.append(parsed)
    return Statement(rows=tuple(rows), problems=tuple(problems))


def _unrecorded_detail(bill: BillFacts | None, row: StatementRow) -> str:
    if bill is None:
        return "no bill has this billing code"
    if bill.status == "open":
        state = "open, past its pay-by date" if bill.overdue else "open"
        return f"bill {state} ({bill.registration_number})"
    return f"bill {bill.status} ({bill.registration_number})"


def match(
    bank: str,
    statement: Statement,
    *,
    recorded: Iterable[RecordedPayment],
    by_transaction: Mapping[str, RecordedPayment],
    bills: Mapping[str, BillFacts],
    period: tuple[datetime, datetime] | None,
) -> Report:
    """``recorded``: the bank's payments in the period; ``by_transaction``: the recorded
    payment of each statement transaction, wherever its date; ``bills`` by code."""
    mismatches = [
        Mismatch(kind="invalid_row", line=line, detail=what) for line, what in statement.problems
    ]
    matched = 0
    for row in statement.rows:
        paid = by_transaction.get(row.transaction_id)
        facts = {
            "line": row.line,
            "transaction_id": row.transaction_id,
            "billing_code": row.billing_code,
            "statement_amount": row.amount,
        }
        if paid is None:
            bill = bills.get(row.billing_code)
            mismatches.append(
                Mismatch(
                    kind="paid_not_recorded",
                    registration_number=bill.registration_number if bill else None,
                    detail=_unrecorded_detail(bill, row),
                    **facts,
                )
            )
        elif (paid.amount, paid.billing_code) != (row.amount, row.billing_code):
            detail = (
                ""
                if paid.billing_code == row.billing_code
                else (f"recorded for billing code {paid.billing_code}")
            )
            mismatches.append(
                Mismatch(
                    kind="amount_mismatch",
                    registration_number=paid.registration_number,
                    recorded_amount=paid.amount,
                    detail=detail,
                    **facts,
                )
            )
        else:
            matched += 1
    in_statement = {r.transaction_id for r in statement.rows}
    recorded = list(recorded)
    for paid in recorded:
        if paid.transaction_id not in in_statement:
            mismatches.append(
                Mismatch(
                    kind="recorded_not_in_statement",
                    transaction_id=paid.transaction_id,
                    billing_code=paid.billing_code,
                    registration_number=paid.registration_number,
                    recorded_amount=paid.amount,
                    detail=f"paid at {paid.paid_at.isoformat()}",
                )
            )
    return Report(
        bank=bank,
        since=period[0] if period else None,
        until=period[1] if period else None,
        statement_rows=len(statement.rows) + len(statement.problems),
        recorded_payments=len(recorded),
        matched=matched,
        mismatches=tuple(mismatches),
    )
