"""``loket payments reconcile``: a bank statement export against the payments Loket recorded.

Reports every transaction the bank credited that Loket did not record (paid-not-recorded),
every bank payment Loket recorded in the statement's period that the statement lacks
(recorded-not-in-statement), every transaction recorded with another amount or billing
code (amount-mismatch) and every row that cannot be read (invalid-row). The CSV shape is in
docs/payments.md. Exit 0 when everything matches, 1 when anything does not (or the
database is unavailable), 2 usage error (no such file, a statement without the columns).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from loket.cli_common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, doc_help, exits, fail, new_app, out
from loket.payment_statement import Report, parse_statement
from loket.settings import BANK_PATTERN
from loket.store.cli import DatabaseUnavailable, on_connection
from loket.store.db import Conn
from loket.store.reconcile import reconcile

_COLUMNS = ("kind", "line", "transaction", "billing code", "application", "statement", "recorded")


def register(app: typer.Typer) -> None:
    payments = new_app(doc_help(__doc__))
    payments.command(
        "reconcile",
        help="Match a bank statement (CSV) against recorded payments; exit 1 on any mismatch.",
        short_help="a bank statement against recorded payments",
    )(exits(_reconcile))
    app.add_typer(
        payments,
        name="payments",
        short_help="billing: reconcile a bank statement",
        rich_help_panel="Accounts and database",
    )


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{option}: give an offset, e.g. 2026-03-01T00:00:00+07:00")
    return parsed


def _reconcile(
    statement_file: Annotated[Path, typer.Argument(metavar="STATEMENT.csv")],
    bank: Annotated[str, typer.Option("--bank", help="the payment channel the statement is of")],
    since: Annotated[
        str | None, typer.Option("--since", help="period start (ISO 8601); default: first row")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="period end (ISO 8601); default: last row")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
) -> int:
    if not re.fullmatch(BANK_PATTERN, bank):
        return fail(
            "payments reconcile", f"--bank: not a channel name ({BANK_PATTERN})", EXIT_USAGE
        )
    try:
        statement = parse_statement(statement_file.read_text(encoding="utf-8"))
        start, end = _when(since, "--since"), _when(until, "--until")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return fail("payments reconcile", f"{statement_file}: {exc}", EXIT_USAGE)

    async def work(conn: Conn) -> Report:
        return await reconcile(conn, bank, statement, since=start, until=end)

    try:
        report = on_connection(work, migrate_first=False)
    except DatabaseUnavailable as exc:
        return fail("payments reconcile", exc)
    if as_json:
        out(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        _table(report)
    return EXIT_OK if report.ok else EXIT_REFUSED


def _table(report: Report) -> None:
    rows = [
        (
            m.kind.replace("_", "-"),
            str(m.line or ""),
            m.transaction_id or "",
            m.billing_code or "",
            m.registration_number or "",
            "" if m.statement_amount is None else str(m.statement_amount),
            "" if m.recorded_amount is None else str(m.recorded_amount),
            m.detail,
        )
        for m in report.mismatches
    ]
    if rows:
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS)]
        out("  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths, strict=True)) + "  detail")
        for row in rows:
            out("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1])
    since = report.since.isoformat() if report.since else "-"
    until = report.until.isoformat() if report.until else "-"
    out(
        f"{report.bank} {since} .. {until}: {report.statement_rows} statement rows, "
        f"{report.recorded_payments} recorded payments, {report.matched} matched, "
        f"{len(report.mismatches)} mismatches"
    )
