"""Public pages: the catalog, each permit's published service standard, the fee simulator,
submission, tracking (and sending corrections), and the language switch.

Every page calls the use cases the public API calls (``loket.services.public``,
``.published``), so the simulator prices with the billing formula and the tracking page
shows what the API shows. The access
code travels only in POST bodies, never in a URL.
"""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Response

from loket.analysis.diagram import render_svg
from loket.edge.errors import ApiError
from loket.edge.params import REGISTRATION_PATTERN, PermitId
from loket.fees import AmountOutOfRange
from loket.refusal import Refused
from loket.route.form import FormError
from loket.services import ServiceError, public, published
from loket.services.errors import Invalid
from loket.services.fields import amount_invalid
from loket.services.public import ResubmitBody, TrackBody, tracking_not_found
from loket.web import document_pages, i18n, notify_pages
from loket.web.core import (
    LANG_COOKIE,
    LANG_COOKIE_DAYS,
    CheckedForm,
    Page,
    PageDep,
    PageRoute,
    field_errors,
    form_key,
    form_values,
    parse_form,
    safe_next,
)
from loket.web.forms import coerce_form

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SVG_MEDIA_TYPE = "image/svg+xml"


@router.get("/")
async def catalog(page: PageDep) -> Response:
    return page.render("catalog.html", permits=published.list_permits(page.services.catalog))


@router.get("/permits/{permit_id}")
async def permit_page(page: PageDep, permit_id: PermitId) -> Response:
    permit = page.services.permit(permit_id)
    return page.render(
        "permit.html",
        permit=permit,
        detail=published.permit_detail(page.services.catalog, permit),
    )


@router.get("/permits/{permit_id}/route.svg")
async def route_svg(page: PageDep, permit_id: PermitId, lang: str = "") -> Response:
    # The route analysis' own diagram: one renderer for the CLI, the docs and the pages.
    # The language is in the URL (the page's own), so a cached image never shows the other.
    words = lang if lang in i18n.LANGUAGES else page.lang
    svg = render_svg(page.services.permit(permit_id), page.services.catalog.agencies, words)
    # Served as an image: an <img> never runs scripts inside an SVG.
    return Response(svg, media_type=SVG_MEDIA_TYPE, headers={"Cache-Control": "max-age=300"})


@router.get("/permits/{permit_id}/simulate")
async def simulate_form(page: PageDep, permit_id: PermitId) -> Response:
    permit = page.services.permit(permit_id)
    return page.render("simulate.html", permit=permit, values={}, errors={}, preview=None)


@router.post("/permits/{permit_id}/simulate")
async def simulate(page: PageDep, form: CheckedForm, permit_id: PermitId) -> Response:
    permit = page.services.permit(permit_id)
    values = form_values(form)
    try:
        preview = published.preview_fees(permit, coerce_form(permit, values))
    except (FormError, AmountOutOfRange) as exc:
        errors = exc.errors if isinstance(exc, FormError) else amount_invalid(exc).errors or []
        return page.render(
            "simulate.html",
            status_code=422,
            permit=permit,
            values=values,
            errors=field_errors(errors, page.lang),
            preview=None,
        )
    return page.render("simulate.html", permit=permit, values=values, errors={}, preview=preview)


@router.get("/permits/{permit_id}/apply")
async def apply_form(page: PageDep, permit_id: PermitId) -> Response:
    permit = page.services.permit(permit_id)
    return page.render(
        "apply.html", permit=permit, values={}, errors={}, **notify_pages.contact_context(page)
    )


@router.post("/permits/{permit_id}/apply")
async def apply(page: PageDep, form: CheckedForm, permit_id: PermitId) -> Response:
    permit = page.services.permit(permit_id)
    values = form_values(form)
    try:
        done = await public.submit(
            page.services,
            permit.id,
            coerce_form(permit, values),
            idempotency_key=form_key(form),
            contact=notify_pages.contact_from_form(page, values),
        )
    except (FormError, AmountOutOfRange, Invalid) as exc:
        errors = (
            exc.errors or []
            if isinstance(exc, FormError | Invalid)
            else amount_invalid(exc).errors or []
        )
        return page.render(
            "apply.html",
            status_code=422,
            permit=permit,
            values=values,
            errors=field_errors(errors, page.lang),
            **notify_pages.contact_context(page),
        )
    # Shown once, on this page only: the code is never stored in clear.
    return page.render("submitted.html", status_code=201, permit=permit, done=done)


@router.get("/track")
async def track_form(page: PageDep) -> Response:
    return page.render("track.html", tracking=None, registration_number="", code="")


_REGISTRATION = re.compile(REGISTRATION_PATTERN)


def _tracking_error(page: Page, exc: ApiError, reg: str) -> Response:
    response = page.render(
        "track.html",
        status_code=exc.status_code,
        tracking=None,
        registration_number=reg if _REGISTRATION.match(reg) else "",
        code="",
        error=page.say(exc),
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


@router.post("/track")
async def track(page: PageDep, form: CheckedForm) -> Response:
    reg = str(form.get("registration_number") or "").strip().upper()
    code = str(form.get("access_code") or "").strip()
    try:
        if not _REGISTRATION.match(reg):  # names nothing: answered like an unknown number
            raise tracking_not_found()
        body = parse_form(TrackBody, access_code=code)
        view = await public.track(page.services, reg, body.access_code)
        docs = await document_pages.tracking_documents(page, reg, body.access_code)  # 10A
    except ServiceError as exc:  # a wrong code answers like an unknown number
        return _tracking_error(page, page.answer(exc, 404, 422, 429), reg)
    return page.render(
        "track.html", tracking=view, registration_number=reg, code=code, documents=docs
    )


@router.post("/track/resubmit")
async def resubmit(page: PageDep, form: CheckedForm) -> Response:
    reg = str(form.get("registration_number") or "").strip().upper()
    code = str(form.get("access_code") or "").strip()
    try:
        if not _REGISTRATION.match(reg):
            raise tracking_not_found()
        body = parse_form(ResubmitBody, access_code=code, note=str(form.get("note") or ""))
        view = await public.resubmit(
            page.services, reg, body.access_code, idempotency_key=form_key(form), note=body.note
        )
    except (ServiceError, Refused) as exc:
        error = page.answer(exc, 404, 409, 422, 429)
        if error.status_code != 409:
            return _tracking_error(page, error, reg)
        # Nothing waits for corrections: say why, change nothing.
        view = await public.track(page.services, reg, code)
        return page.render(
            "track.html",
            status_code=409,
            tracking=view,
            registration_number=reg,
            code=code,
            error=page.say(error),
        )
    return page.render(
        "track.html",
        tracking=view,
        registration_number=reg,
        code=code,
        documents=await document_pages.tracking_documents(page, reg, code),  # 10A
        flash=page.t("Corrections sent: the clock runs again."),
    )


@router.post("/lang")
async def switch_language(page: PageDep, form: CheckedForm) -> Response:
    lang = str(form.get("lang") or "")
    if lang in i18n.LANGUAGES:
        page.cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_DAYS * 86400)
    return page.redirect(safe_next(str(form.get("next") or ""), "/"))
