"""Complaint pages (issue 12b): the complaint form (public, and from tracking with the
registration number filled in), the receipt with the tracking number and access code, the
complainant's tracking page with the answers and "reopen", and the staff page of
supervision tasks opened by deemed approvals.

Every page calls ``loket.services.complaints``, as the API does. The access code travels
only in POST bodies.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

from fastapi import APIRouter, Response

from loket.edge.errors import ApiError
from loket.edge.params import REGISTRATION_PATTERN, RegistrationNumber, StepId
from loket.refusal import Refused
from loket.route.form import FormError
from loket.services import ServiceError, complaints
from loket.services.complaints import CloseSupervisionBody, ReopenBody
from loket.services.public import TrackBody, tracking_not_found
from loket.web.core import (
    CheckedForm,
    Page,
    PageDep,
    PageRoute,
    StaffPage,
    field_errors,
    form_key,
    form_values,
    parse_form,
)
from loket.web.forms import coerce_form

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FORM_PATH = "/pengaduan"
TRACK_PATH = "/pengaduan/lacak"
_NUMBER = re.compile(REGISTRATION_PATTERN)


# The complaint form's own field errors, in the visitor's language (by field and code).
_FIELD_TEXTS = {
    (
        "lapor_ticket",
        "invalid",
    ): "Not a LAPOR! ticket number or an address on https://www.lapor.go.id/.",
    ("registration_number", "invalid"): "Not a registration number (like PBG-2026-000123).",
    ("registration_number", "not_found"): "No application has this registration number.",
}


def _field_errors(page: Page, errors: list[dict[str, str]]) -> dict[str, str]:
    shown = dict(field_errors(errors))
    for e in errors:
        text = _FIELD_TEXTS.get((e["field"], e.get("code", "")))
        if text is not None:
            shown[e["field"]] = page.t(text)
    return shown


def _agency_names(page: Page) -> dict[str, str]:
    return {a.id: a.short for a in page.services.catalog.agencies.agencies}


def _number(form_value: object) -> str:
    return str(form_value or "").strip().upper()


@router.get(FORM_PATH)
async def complaint_form(page: PageDep, registration_number: str = "") -> Response:
    reg = _number(registration_number)
    values = {"registration_number": reg} if _NUMBER.match(reg) else {}
    source = "tracking" if values else "public"
    return page.render(
        "complaints/form.html",
        route=complaints.route(page.services),
        values=values,
        errors={},
        source=source,
        agency_names=_agency_names(page),
    )


@router.post(FORM_PATH)
async def file_complaint(page: PageDep, form: CheckedForm) -> Response:
    route = complaints.route(page.services)
    values = form_values(form)
    source: Literal["public", "tracking"] = (
        "tracking" if values.pop("source", "") == "tracking" else "public"
    )
    try:
        filed = await complaints.file_complaint(
            page.services,
            coerce_form(route, values),
            source=source,
            idempotency_key=form_key(form),
        )
    except (FormError, ServiceError) as exc:
        errors = exc.errors if isinstance(exc, FormError) else page.answer(exc, 422).errors or []
        return page.render(
            "complaints/form.html",
            status_code=422,
            route=route,
            values=values,
            errors=_field_errors(page, errors),
            source=source,
            agency_names=_agency_names(page),
        )
    # Shown once: the access code is never stored in clear.
    return page.render("complaints/filed.html", status_code=201, filed=filed)


@router.get(TRACK_PATH)
async def track_form(page: PageDep) -> Response:
    return page.render("complaints/track.html", view=None, tracking_number="", code="")


def _track_error(page: Page, exc: ApiError, number: str) -> Response:
    response = page.render(
        "complaints/track.html",
        status_code=exc.status_code,
        view=None,
        tracking_number=number if _NUMBER.match(number) else "",
        code="",
        error=page.say(exc),
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


@router.post(TRACK_PATH)
async def track(page: PageDep, form: CheckedForm) -> Response:
    number = _number(form.get("tracking_number"))
    code = str(form.get("access_code") or "").strip()
    try:
        if not _NUMBER.match(number):
            raise tracking_not_found()
        body = parse_form(TrackBody, access_code=code)
        view = await complaints.track_complaint(page.services, number, body.access_code)
    except ServiceError as exc:
        return _track_error(page, page.answer(exc, 404, 422, 429), number)
    return page.render("complaints/track.html", view=view, tracking_number=number, code=code)


@router.post(TRACK_PATH + "/reopen")
async def reopen(page: PageDep, form: CheckedForm) -> Response:
    number = _number(form.get("tracking_number"))
    code = str(form.get("access_code") or "").strip()
    try:
        if not _NUMBER.match(number):
            raise tracking_not_found()
        body = parse_form(ReopenBody, access_code=code, note=str(form.get("note") or ""))
        view = await complaints.reopen_complaint(
            page.services, number, body.access_code, note=body.note, idempotency_key=form_key(form)
        )
    except (ServiceError, Refused) as exc:
        error = page.answer(exc, 404, 409, 422, 429)
        if error.status_code != 409:
            return _track_error(page, error, number)
        view = await complaints.track_complaint(page.services, number, code)
        return page.render(
            "complaints/track.html",
            status_code=409,
            view=view,
            tracking_number=number,
            code=code,
            error=page.say(error),
        )
    return page.render(
        "complaints/track.html",
        view=view,
        tracking_number=number,
        code=code,
        flash=page.t("Your complaint is reopened: the complaints desk handles it again."),
    )


# --- staff: supervision of deemed approvals ----------------------------------------------


@router.get("/staff/supervision")
async def supervision_page(page: StaffPage, closed: str = "") -> Response:
    assert page.user is not None
    rows = await complaints.supervision_inbox(page.services, page.user)
    flash = page.t("Supervision task closed.") if closed == "1" else ""
    return page.render("complaints/supervision.html", rows=rows, flash=flash)


@router.post("/staff/supervision/{registration_number}/{step_id}/close")
async def close_supervision(
    page: StaffPage, form: CheckedForm, registration_number: RegistrationNumber, step_id: StepId
) -> Response:
    assert page.user is not None
    try:
        body = parse_form(CloseSupervisionBody, note=str(form.get("note") or ""))
        await complaints.close_supervision(
            page.services, page.user, registration_number, step_id, body.note
        )
    except ServiceError as exc:
        error = page.answer(exc, 422)
        rows = await complaints.supervision_inbox(page.services, page.user)
        return page.render(
            "complaints/supervision.html", status_code=422, rows=rows, error=page.say(error)
        )
    # Post/redirect/get: reloading the list never posts the note again.
    return page.redirect("/staff/supervision?closed=1")
