"""Administrators' and the inspectorate's payments page (issue 11): the latest payment
callbacks with their outcome, and a bank statement reconciled against recorded payments
(the same report as ``loket payments reconcile``). Nothing here changes a case."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from starlette.datastructures import UploadFile

from loket.services import ServiceError
from loket.services import reconcile as reconciliation
from loket.web.core import AuditReaderPage, CheckedForm, PageRoute

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEMPLATE = "billing/payments.html"


async def _page(page: AuditReaderPage, status_code: int = 200, **context: object) -> Response:
    attempts = await reconciliation.recent_attempts(page.services)
    banks = sorted(page.services.settings.payment_banks)
    context.setdefault("report", None)
    context.setdefault("bank", "")
    return page.render(TEMPLATE, status_code=status_code, attempts=attempts, banks=banks, **context)


@router.get("/admin/payments")
async def payments(page: AuditReaderPage) -> Response:
    return await _page(page)


@router.post("/admin/payments/reconcile")
async def reconcile(page: AuditReaderPage, form: CheckedForm) -> Response:
    bank = str(form.get("bank") or "")
    upload = form.get("statement")
    if bank not in page.services.settings.payment_banks or not isinstance(upload, UploadFile):
        return await _page(page, 422, error=page.t("Choose the bank and the statement file."))
    try:
        text = (await upload.read()).decode("utf-8")
        report = await reconciliation.reconcile_statement(page.services, bank, text)
    except UnicodeDecodeError:
        return await _page(page, 422, error=page.t("The statement is not UTF-8 text."))
    except ServiceError as exc:
        error = page.answer(exc, 422)
        return await _page(page, error.status_code, error=page.say(error))
    return await _page(page, report=report, bank=bank)
