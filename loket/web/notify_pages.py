"""Pages of applicant notifications: the contact fields of the application form (parsed
here, the same model as the API's), and access-code recovery (``/track/recover``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Response

from loket.contact import CONSENT_PURPOSE, CONSENT_VERSION, ContactIn
from loket.edge.params import REGISTRATION_PATTERN
from loket.services import ServiceError, contacts
from loket.services.errors import Invalid
from loket.web.core import CheckedForm, Page, PageDep, PageRoute, form_key, parse_form

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FIELD_PREFIX = "contact_"
_REGISTRATION = re.compile(REGISTRATION_PATTERN)


def contact_context(page: Page) -> dict[str, Any]:
    """What the form's contact fields show: the purpose text and its version."""
    lang = page.lang if page.lang in CONSENT_PURPOSE else "id"
    return {"consent_purpose": CONSENT_PURPOSE[lang], "consent_version": CONSENT_VERSION}


def contact_from_form(page: Page, values: Mapping[str, str]) -> ContactIn | None:
    """The contact fields of the application form; Invalid names ``contact_<field>``."""
    phone = values.get(f"{FIELD_PREFIX}phone", "").strip()
    email = values.get(f"{FIELD_PREFIX}email", "").strip()
    consent = values.get(f"{FIELD_PREFIX}consent") in ("on", "true", "1", "yes")
    if not (phone or email or consent):
        return None
    try:
        return parse_form(
            ContactIn,
            phone=phone or None,
            email=email or None,
            consent=consent,
            consent_version=values.get(f"{FIELD_PREFIX}consent_version") or CONSENT_VERSION,
            language=page.lang if page.lang in CONSENT_PURPOSE else "id",
        )
    except Invalid as exc:
        errors = [{**e, "field": FIELD_PREFIX + e["field"]} for e in exc.errors or []]
        raise Invalid(exc.code, errors=errors, fields=[e["field"] for e in errors]) from None


@router.get("/track/recover")
async def recover_form(page: PageDep) -> Response:
    return page.render("notify/recover.html", registration_number="", sent=False)


@router.post("/track/recover")
async def recover(page: PageDep, form: CheckedForm) -> Response:
    reg = str(form.get("registration_number") or "").strip().upper()
    try:
        # A number that names nothing gets the same answer as any other.
        if _REGISTRATION.match(reg):
            await contacts.recover_access_code(page.services, reg, idempotency_key=form_key(form))
    except ServiceError as exc:
        error = page.answer(exc, 429)
        response = page.render(
            "notify/recover.html",
            status_code=error.status_code,
            registration_number=reg if _REGISTRATION.match(reg) else "",
            sent=False,
            error=page.say(error),
        )
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response
    return page.render("notify/recover.html", status_code=202, registration_number="", sent=True)
