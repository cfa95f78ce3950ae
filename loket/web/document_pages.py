"""Document pages (10A): upload forms on the tracking page and for walk-in applicants at the
registration counter, downloads, and the verdict fields of the task page's decision form.

Upload forms are multipart and streamed (``loket.edge.uploads``): their text fields come
first in the form (CSRF token, nonce, number, access code), are checked, and only then is
the file part read, straight into the upload use case. Every rule is the service's.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import FormData

from loket.edge.errors import ApiError, Invalid
from loket.edge.params import REGISTRATION_PATTERN, RegistrationNumber
from loket.edge.uploads import Part, parts
from loket.refusal import Refused
from loket.route.model import IDENT
from loket.services import ServiceError, documents, public
from loket.services.documents import DocumentsOut, Download
from loket.services.public import tracking_not_found
from loket.web.core import (
    CSRF_FIELD,
    NONCE_FIELD,
    CheckedForm,
    CsrfRefused,
    Page,
    PageDep,
    PageRoute,
    StaffPage,
    TaskReaderPage,
    check_csrf,
    form_key,
)

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FILE_FIELD = "file"
_REGISTRATION = re.compile(REGISTRATION_PATTERN)
_SLOT = Path(pattern=IDENT, max_length=64)

# --- helpers the shared pages call ---------------------------------------------------------


async def tracking_documents(page: Page, registration_number: str, code: str) -> DocumentsOut:
    return await documents.applicant_documents(page.services, registration_number, code)


async def task_documents(page: Page, registration_number: str) -> DocumentsOut | None:
    assert page.user is not None
    try:
        return await documents.staff_documents(page.services, page.user, registration_number)
    except ServiceError:
        return None


def decision_documents(form: FormData) -> dict[str, Any]:
    """The task form's verdict fields (``verdict.<slot>``, ``verdict_note.<slot>``) and
    correction boxes (``correct``), as ``DecideBody`` takes them."""
    verdicts: list[dict[str, str]] = []
    for name, value in form.multi_items():
        if name.startswith("verdict.") and isinstance(value, str) and value:
            slot = name.removeprefix("verdict.")
            note = form.get(f"verdict_note.{slot}")
            verdicts.append(
                {"slot": slot, "verdict": value, "note": note if isinstance(note, str) else ""}
            )
    corrections = [str(v) for v in form.getlist("correct") if isinstance(v, str)]
    return {"verdicts": verdicts, "corrections": corrections}


# --- streamed upload forms -------------------------------------------------------------------


async def _fields_then_file(page: Page) -> tuple[dict[str, str], Part | None]:
    """The form's text fields (CSRF-checked) and its file part, not yet read; a form that
    is not multipart has no file (its fields are still checked, so the answer says who
    may upload before it says that the file is missing)."""
    content_type = page.request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        form = await check_csrf(page)
        return {k: v for k, v in form.items() if isinstance(v, str)}, None
    fields: dict[str, str] = {}
    stream = parts(page.request.stream(), content_type)
    async for part in stream:
        if part.filename is None:
            fields[part.name] = await part.text()
            continue
        if fields.get(CSRF_FIELD) != page.csrf:
            log.warning("CSRF token refused on %s", page.request.url.path)
            raise CsrfRefused()
        if part.name != FILE_FIELD:
            raise Invalid("invalid_request", fields=FILE_FIELD)
        return fields, part
    if fields.get(CSRF_FIELD) != page.csrf:
        raise CsrfRefused()
    return fields, None


def _no_file() -> Invalid:
    return Invalid("invalid_request", fields=FILE_FIELD)


def _key(fields: dict[str, str]) -> str:
    return form_key(FormData(list(fields.items())))


async def _render_tracking(
    page: Page, reg: str, code: str, *, status_code: int = 200, error: str = "", flash: str = ""
) -> Response:
    view = await public.track(page.services, reg, code)
    docs = await tracking_documents(page, reg, code)
    return page.render(
        "track.html",
        status_code=status_code,
        tracking=view,
        registration_number=reg,
        code=code,
        documents=docs,
        error=error,
        flash=flash,
    )


@router.post("/track/documents/{slot}")
async def applicant_upload(page: PageDep, slot: str = _SLOT) -> Response:
    fields, part = await _fields_then_file(page)
    reg = fields.get("registration_number", "").strip().upper()
    code = fields.get("access_code", "").strip()
    if not _REGISTRATION.match(reg):
        raise tracking_not_found()
    if part is None:
        await documents.check_applicant(page.services, reg, code)
        raise _no_file()
    try:
        await documents.applicant_upload(
            page.services, reg, code, slot, part.chunks(), key=_key(fields)
        )
    except (ServiceError, Refused, ApiError) as exc:
        error = page.answer(exc, 409, 413, 422)
        return await _render_tracking(
            page, reg, code, status_code=error.status_code, error=page.say(error)
        )
    return await _render_tracking(page, reg, code, flash=page.t("Document uploaded."))


@router.post("/track/documents/{slot}/{version}/download")
async def applicant_download(
    page: PageDep, form: CheckedForm, version: int, slot: str = _SLOT
) -> Response:
    reg = str(form.get("registration_number") or "").strip().upper()
    code = str(form.get("access_code") or "").strip()
    if not _REGISTRATION.match(reg):
        raise tracking_not_found()
    download = await documents.applicant_download(page.services, reg, code, slot, version)
    return _file_response(download, reg)


@router.post("/staff/applications/{registration_number}/documents/{slot}")
async def staff_upload(
    page: StaffPage, registration_number: RegistrationNumber, slot: str = _SLOT
) -> Response:
    assert page.user is not None
    fields, part = await _fields_then_file(page)
    back = fields.get("back", "")
    if part is None:
        await documents.may_upload(page.services, registration_number, slot, page.user.actor())
        raise _no_file()
    try:
        await documents.staff_upload(
            page.services, page.user, registration_number, slot, part.chunks(), key=_key(fields)
        )
    except (ServiceError, Refused, ApiError) as exc:
        error = page.answer(exc, 404, 409, 413, 422)
        return page.render(
            "error.html",
            status_code=error.status_code,
            status=error.status_code,
            reason=page.say(error),
        )
    target = back if back.startswith("/staff/tasks/") else "/staff/inbox"
    return page.redirect(target)


@router.get("/staff/applications/{registration_number}/documents/{slot}/{version}")
async def staff_download(
    page: TaskReaderPage, registration_number: RegistrationNumber, version: int, slot: str = _SLOT
) -> Response:
    assert page.user is not None
    download = await documents.staff_download(
        page.services, page.user, registration_number, slot, version
    )
    return _file_response(download, registration_number)


def _file_response(download: Download, registration_number: str) -> Response:
    ext = download.media_type.rsplit("/", 1)[-1]
    name = f"{registration_number}-{download.slot}-v{download.version}.{ext}"
    return StreamingResponse(
        download.content,
        media_type=download.media_type,
        headers={
            "Content-Length": str(download.size),
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


__all__ = ["NONCE_FIELD", "decision_documents", "router", "task_documents", "tracking_documents"]
