"""Reconciliation for the admin pages: a bank statement against recorded payments (the
same matching as ``loket payments reconcile``), and the log of payment callbacks."""

from __future__ import annotations

import logging

from loket.payment_statement import Report, parse_statement
from loket.services.context import Services
from loket.services.errors import Invalid
from loket.store import billing
from loket.store.billing import AttemptRow
from loket.store.reconcile import reconcile

log = logging.getLogger(__name__)

ATTEMPTS_SHOWN = 100


async def reconcile_statement(services: Services, bank: str, text: str) -> Report:
    try:
        statement = parse_statement(text)
    except ValueError as exc:
        raise Invalid(
            "statement_invalid",
            errors=[{"field": "statement", "code": "invalid", "message": str(exc)}],
            reason=str(exc),
        ) from None
    async with services.acquire() as conn:
        report = await reconcile(conn, bank, statement)
    log.info(
        "statement of %s reconciled: %d matched, %d mismatches",
        bank,
        report.matched,
        len(report.mismatches),
    )
    return report


async def recent_attempts(services: Services, limit: int = ATTEMPTS_SHOWN) -> list[AttemptRow]:
    async with services.acquire() as conn:
        return await billing.attempts(conn, limit=limit)
