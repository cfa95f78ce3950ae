"""Pages of administrators and the inspectorate: stalled work across agencies, SLA
compliance with charts, and each application's audit trail with a link to its workflow.

Inspectors read all of it and change nothing: the only forms here (cancel, recompute) need
the administrator role on the server, whatever the page shows.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Response

from loket.edge.params import PERMIT_PATTERN, REGISTRATION_PATTERN, RegistrationNumber
from loket.refusal import Refused
from loket.route.loader import Catalog
from loket.services import ServiceError, contacts, deadlines, monitoring, security, tasks, utcnow
from loket.services.deadlines import RecomputeIn
from loket.services.tasks import CancelBody
from loket.web import charts
from loket.web.core import (
    AdminPage,
    AuditReaderPage,
    CheckedForm,
    Page,
    PageRoute,
    form_key,
    parse_form,
)

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SLA_WINDOWS_DAYS = (7, 30, 90, 365)
# Clock pauses and resumptions stand out in the audit trail: they are what the
# inspectorate checks against the "stop the clock, never reset it" rule.
CLOCK_EVENTS = frozenset(
    {"clock_paused", "clock_resumed", "service_clock_paused", "service_clock_resumed"}
)


def temporal_ui_link(page: Page, registration_number: RegistrationNumber) -> str:
    settings = page.services.settings
    return (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/"
        f"{quote(settings.temporal_namespace, safe='')}/workflows/"
        f"{quote(registration_number, safe='')}"
    )


def _names(catalog: Catalog) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    agencies = {a.id: a.short for a in catalog.agencies.agencies}
    counters = {(a.id, c.id): c.name for a in catalog.agencies.agencies for c in a.counters}
    return agencies, counters


@router.get("/monitor")
async def dashboard(page: AuditReaderPage, after: str = "") -> Response:
    # One page; a bad cursor answers the error page (422).
    found = await monitoring.stalled_page(page.services, utcnow(), after=after or None)
    agencies, counters = _names(page.services.catalog)
    return page.render(
        "monitor.html",
        stalled=found.rows,
        next_page=f"/monitor?{urlencode({'after': found.next_after})}" if found.next_after else "",
        paged=bool(after),
        agencies=agencies,
        counters=counters,
    )


@router.get("/monitor/sla")
async def sla(
    page: AuditReaderPage,
    days: Annotated[int, Query(ge=0, le=100000)] = 30,
    permit_type: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    if days not in SLA_WINDOWS_DAYS:
        days = 30
    if permit_type and not re.match(PERMIT_PATTERN, permit_type):
        permit_type = ""
    end = utcnow()
    rows = await monitoring.sla_compliance(
        page.services, end - timedelta(days=days), end, permit_type or None
    )
    agencies, counters = _names(page.services.catalog)
    by_agency = charts.aggregate(
        rows, ("agency",), lambda r: agencies.get(r["agency"], r["agency"])
    )
    by_counter = charts.aggregate(
        rows,
        ("agency", "counter"),
        lambda r: (
            f"{agencies.get(r['agency'], r['agency'])} · "
            f"{counters.get((r['agency'], r['counter']), r['counter'])}"
        ),
    )
    by_step = charts.aggregate(
        rows, ("permit_type", "step_id"), lambda r: f"{r['permit_type']} · {r['name']}"
    )
    t = page.t
    return page.render(
        "sla.html",
        days=days,
        windows=SLA_WINDOWS_DAYS,
        permit_type=permit_type,
        permit_types=sorted(page.services.catalog.permits),
        rows=rows,
        agencies=agencies,
        counters=counters,
        charts=[
            (t("Per agency"), charts.bar_chart(by_agency, t("On time per agency")), by_agency),
            (t("Per counter"), charts.bar_chart(by_counter, t("On time per counter")), by_counter),
            (t("Per step"), charts.bar_chart(by_step, t("On time per step")), by_step),
        ],
    )


@router.get("/applications")
async def find_application(
    page: AuditReaderPage, reg: Annotated[str, Query(max_length=40)] = ""
) -> Response:
    reg = reg.strip().upper()
    if re.match(REGISTRATION_PATTERN, reg):
        return page.redirect(f"/applications/{quote(reg, safe='')}")
    return page.redirect("/monitor")


async def _application_page(
    page: Page,
    registration_number: str,
    *,
    status_code: int = 200,
    error: str = "",
    flash: str = "",
) -> Response:
    audit = await tasks.application_audit(page.services, registration_number)
    record = await monitoring.application_record(page.services, registration_number)
    refused = await security.application_security_log(page.services, registration_number)
    app = record.application
    permit = page.services.catalog.permits.get(app.permit_type)
    return page.render(
        "application.html",
        status_code=status_code,
        app=app,
        permit_name=permit.name if permit else app.permit_type,
        tasks=record.tasks,
        audit=audit,
        escalations=record.escalations,
        refused=refused,
        deliveries=await contacts.deliveries(page.services, registration_number),
        clock_events=CLOCK_EVENTS,
        temporal_url=temporal_ui_link(page, registration_number),
        error=error,
        flash=flash,
    )


@router.get("/applications/{registration_number}")
async def application_page(
    page: AuditReaderPage, registration_number: RegistrationNumber
) -> Response:
    return await _application_page(page, registration_number)


@router.post("/applications/{registration_number}/cancel")
async def cancel(
    page: AdminPage, form: CheckedForm, registration_number: RegistrationNumber
) -> Response:
    assert page.user is not None
    result: dict[str, Any] = {}
    try:
        body = parse_form(CancelBody, reason=str(form.get("reason") or "").strip())
        await tasks.cancel_application(
            page.services, page.user, registration_number, body.reason, key=form_key(form)
        )
    except (ServiceError, Refused) as exc:
        error = page.answer(exc, 409, 422)
        result["status_code"], result["error"] = error.status_code, page.say(error)
    else:
        result["flash"] = page.t("The application is cancelled.")
    return await _application_page(page, registration_number, **result)


@router.post("/applications/{registration_number}/recompute")
async def recompute(
    page: AdminPage, form: CheckedForm, registration_number: RegistrationNumber
) -> Response:
    assert page.user is not None
    result: dict[str, Any] = {}
    try:
        body = parse_form(RecomputeIn, reason=str(form.get("reason") or "").strip())
        await deadlines.recompute_deadlines(
            page.services, page.user, registration_number, body, key=form_key(form)
        )
    except (ServiceError, Refused) as exc:
        error = page.answer(exc, 409, 422)
        result["status_code"], result["error"] = error.status_code, page.say(error)
    else:
        result["flash"] = page.t("Deadlines recomputed with the current calendar.")
    return await _application_page(page, registration_number, **result)
