"""Public pages of accountability: the published service performance (/kinerja) and the
satisfaction survey (SKM) of a finished application, reached from its tracking page.

No sign-in. The survey needs the registration number and access code, which travel in POST
bodies only (as on the tracking page); a wrong code answers like an unknown number.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from loket.case.survey import ELEMENTS
from loket.edge.params import REGISTRATION_PATTERN
from loket.performance import SMALL_CELL, SUPPRESSED_MARK
from loket.refusal import Refused
from loket.services import ServiceError, survey
from loket.services.performance import Performance, current_year, published_performance
from loket.services.public import tracking_not_found
from loket.services.survey import SurveyBody
from loket.web import charts
from loket.web.core import CheckedForm, Page, PageDep, PageRoute, form_key, parse_form

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_REGISTRATION = re.compile(REGISTRATION_PATTERN)
_DIGIT = re.compile(r"^[0-9]$")

# The nine elements as the regulation names them (U1..U9), and the answer scale.
ELEMENT_LABELS: dict[str, str] = {
    "persyaratan": "Requirements",
    "prosedur": "Procedure",
    "waktu": "Service time",
    "biaya": "Fee/tariff",
    "produk": "Service product",
    "kompetensi": "Staff competence",
    "perilaku": "Staff conduct",
    "pengaduan": "Handling of complaints",
    "sarana": "Facilities",
}
SCALE = {1: "Poor", 2: "Fair", 3: "Good", 4: "Very good"}


MONTHS = {
    "id": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember",
    "en": "January February March April May June July August September October November December",
}


def month_label(month: str, lang: str) -> str:
    """'2026-04' as 'April 2026' in the page's language."""
    year, number = month.split("-")
    return f"{MONTHS.get(lang, MONTHS['en']).split()[int(number) - 1]} {year}"


def decimal(value: float | None, places: int = 1) -> str:
    """Indonesian decimals (12,5) for days and the index; '-' when there is nothing."""
    if value is None:
        return "-"
    return f"{value:,.{places}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def _charts(page: Page, report: Performance) -> list[tuple[str, Any]]:
    t = page.t
    yearly = [
        charts.Bar(r.permit_name, r.on_time or 0, r.finished or 0)
        for r in report.yearly
        if r.finished and "finished" not in r.suppressed
    ]
    monthly = [
        charts.Bar(
            f"{r.permit_type} · {month_label(r.month, page.lang)}", r.on_time or 0, r.finished or 0
        )
        for r in report.monthly
        if r.finished and "finished" not in r.suppressed
    ]
    found = []
    if yearly:
        found.append(
            (t("On time per service"), charts.narrow_bar_chart(yearly, t("On time per service")))
        )
    if monthly:
        found.append(
            (t("On time per month"), charts.narrow_bar_chart(monthly, t("On time per month")))
        )
    return found


@router.get("/kinerja")
async def performance_page(
    page: PageDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> Response:
    services = page.services
    shown = year or current_year(services)
    report = await published_performance(services, shown)
    years = list(range(services.calendar.first_year, current_year(services) + 1))
    # A month with nothing at all stays in the open data; the page (read on phones) skips it.
    monthly = [r for r in report.monthly if r.suppressed or r.received or r.finished or r.returns]
    return page.render(
        "performance/kinerja.html",
        report=report,
        monthly=monthly,
        years=years,
        charts=_charts(page, report),
        decimal=decimal,
        month_label=lambda month: month_label(month, page.lang),
        mark=SUPPRESSED_MARK,
        small_cell=SMALL_CELL,
        element_labels=ELEMENT_LABELS,
    )


def _survey_page(page: Page, status_code: int = 200, **context: Any) -> Response:
    defaults: dict[str, Any] = {
        "registration_number": "",
        "code": "",
        "offer": None,
        "values": {},
        "answered": None,
        "error": "",
        "elements": ELEMENTS,
        "element_labels": ELEMENT_LABELS,
        "scale": SCALE,
    }
    return page.render("survey/form.html", status_code=status_code, **(defaults | context))


def _access(form: CheckedForm) -> tuple[str, str]:
    reg = str(form.get("registration_number") or "").strip().upper()
    code = str(form.get("access_code") or "").strip()
    if not _REGISTRATION.match(reg):  # names nothing: answered like an unknown number
        raise tracking_not_found()
    return reg, code


@router.post("/survey/start")
async def survey_start(page: PageDep, form: CheckedForm) -> Response:
    try:
        reg, code = _access(form)
        offer = await survey.offer(page.services, reg, code)
    except ServiceError as exc:
        error = page.answer(exc, 404, 422, 429)
        return _survey_page(page, error.status_code, error=page.say(error))
    return _survey_page(page, registration_number=reg, code=code, offer=offer)


def _ratings(form: CheckedForm) -> dict[str, Any]:
    """The form's ratings as ints; anything else is passed on for the model to refuse."""
    values: dict[str, Any] = {}
    for element in ELEMENTS:
        raw = str(form.get(element) or "")
        values[element] = int(raw) if _DIGIT.match(raw) else raw
    return values


@router.post("/survey")
async def survey_answer(page: PageDep, form: CheckedForm) -> Response:
    reg = code = ""
    values = _ratings(form)
    try:
        reg, code = _access(form)
        body = parse_form(SurveyBody, access_code=code, **values)
        answered = await survey.answer(page.services, reg, body, idempotency_key=form_key(form))
    except (ServiceError, Refused) as exc:
        error = page.answer(exc, 404, 409, 422, 429)
        offer = None
        if error.status_code in (409, 422):
            offer = await survey.offer(page.services, reg, code)
        return _survey_page(
            page,
            error.status_code,
            registration_number=reg if error.status_code != 404 else "",
            code=code if error.status_code != 404 else "",
            offer=offer,
            values=values,
            error=page.say(error),
        )
    return _survey_page(page, 201, registration_number=reg, answered=answered)
