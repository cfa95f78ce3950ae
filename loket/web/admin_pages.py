"""Pages of administrators and the inspectorate: stalled work across agencies, SLA
compliance with charts, and each application's audit trail with a link to its workflow.

Inspectors read all of it and change nothing: the only forms here (cancel, recompute) need
the administrator role on the server, whatever the page shows.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Response
from pydantic import ValidationError

from loket.api import monitoring, staff
from loket.api.deps import Conflict, NotFound, utcnow
from loket.route.loader import Catalog
from loket.store import monitoring as monitoring_store
from loket.store import queries
from loket.web import charts
from loket.web.core import AdminPage, AuditReaderPage, CheckedForm, Page, PageRoute

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SLA_WINDOWS_DAYS = (7, 30, 90, 365)
# Clock pauses and resumptions stand out in the audit trail: they are what the
# inspectorate checks against the "stop the clock, never reset it" rule.
CLOCK_EVENTS = frozenset(
    {"clock_paused", "clock_resumed", "service_clock_paused", "service_clock_resumed"}
)


def temporal_ui_link(page: Page, registration_number: str) -> str:
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
async def dashboard(page: AuditReaderPage) -> Response:
    stalled = await monitoring.stalled_steps(page.services, utcnow())
    agencies, counters = _names(page.services.catalog)
    return page.render("monitor.html", stalled=stalled, agencies=agencies, counters=counters)


@router.get("/monitor/sla")
async def sla(page: AuditReaderPage, days: int = 30, permit_type: str = "") -> Response:
    if days not in SLA_WINDOWS_DAYS:
        days = 30
    end = utcnow()
    async with page.services.pool.acquire() as conn:
        rows = await monitoring_store.sla_compliance(
            conn, end - timedelta(days=days), end, permit_type or None
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
async def find_application(page: AuditReaderPage, reg: str = "") -> Response:
    reg = reg.strip().upper()
    if reg:
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
    audit = await staff.application_audit(page.services, registration_number)
    async with page.services.pool.acquire() as conn:
        app = await queries.application(conn, registration_number)
        tasks = await queries.tasks_of(conn, registration_number)
        escalations = await monitoring_store.escalation_history(conn, registration_number)
    if app is None:
        raise NotFound(f"no application {registration_number}")
    permit = page.services.catalog.permits.get(app.permit_type)
    labels = {n: f.label for n, f in permit.form.items()} if permit else {}
    return page.render(
        "application.html",
        status_code=status_code,
        app=app,
        permit_name=permit.name if permit else app.permit_type,
        labels=labels,
        tasks=tasks,
        audit=audit,
        escalations=escalations,
        clock_events=CLOCK_EVENTS,
        temporal_url=temporal_ui_link(page, registration_number),
        error=error,
        flash=flash,
    )


@router.get("/applications/{registration_number}")
async def application_page(page: AuditReaderPage, registration_number: str) -> Response:
    return await _application_page(page, registration_number)


def _validation_reason(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


@router.post("/applications/{registration_number}/cancel")
async def cancel(page: AdminPage, form: CheckedForm, registration_number: str) -> Response:
    assert page.user is not None
    reason = str(form.get("reason") or "").strip()
    if len(reason) < 3:
        return await _application_page(
            page, registration_number, status_code=422, error=page.t("Give a reason.")
        )
    try:
        await staff.cancel_application(page.services, page.user, registration_number, reason)
    except Conflict as exc:
        return await _application_page(page, registration_number, status_code=409, error=exc.detail)
    return await _application_page(
        page, registration_number, flash=page.t("The application is cancelled.")
    )


@router.post("/applications/{registration_number}/recompute")
async def recompute(page: AdminPage, form: CheckedForm, registration_number: str) -> Response:
    assert page.user is not None
    result: dict[str, Any] = {}
    try:
        body = monitoring.RecomputeIn(reason=str(form.get("reason") or "").strip())
        await monitoring.post_recompute(page.services, page.user, registration_number, body)
    except ValidationError as exc:
        result["status_code"], result["error"] = 422, _validation_reason(exc)
    except Conflict as exc:
        result["status_code"], result["error"] = 409, exc.detail
    else:
        result["flash"] = page.t("Deadlines recomputed with the current calendar.")
    return await _application_page(page, registration_number, **result)
