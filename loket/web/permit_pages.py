"""Pages of the issued permit (issue 10 §2): the public verification page the QR code
opens, with its PDF check, and the applicant's download from the tracking page.

Both call ``loket.services.permits``, as the API does. The verification page speaks Bahasa
Indonesia first with English beside it (its template), whatever the language chosen.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from loket.edge.params import REGISTRATION_PATTERN
from loket.route.issuance import NUMBER_MAX_LENGTH, NUMBER_PATTERN
from loket.services import Invalid, ServiceError, permits
from loket.services.public import TrackBody, tracking_not_found
from loket.web.core import CheckedForm, PageDep, PageRoute, parse_form

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CHUNK = 64 * 1024
_REGISTRATION = re.compile(REGISTRATION_PATTERN)
PermitNumber = Annotated[str, Path(pattern=NUMBER_PATTERN, max_length=NUMBER_MAX_LENGTH)]


@router.get("/verify/{number:path}")
async def verify_page(page: PageDep, number: PermitNumber) -> Response:
    verification = await permits.verify(page.services, number)
    return page.render("permit/verify.html", verification=verification, check=None)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


@router.post("/verify/{number:path}")
async def verify_check(page: PageDep, form: CheckedForm, number: PermitNumber) -> Response:
    verification = await permits.verify(page.services, number)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        error = page.answer(
            Invalid(
                "invalid_request",
                errors=[{"field": "file", "code": "missing", "message": "no file"}],
                fields=["file"],
            ),
            422,
        )
        return page.render(
            "permit/verify.html",
            status_code=422,
            verification=verification,
            check=None,
            error=page.say(error),
        )
    try:
        check = await permits.check_pdf(page.services, number, _chunks(upload))
    except ServiceError as exc:
        error = page.answer(exc, 422)
        return page.render(
            "permit/verify.html",
            status_code=error.status_code,
            verification=verification,
            check=None,
            error=page.say(error),
        )
    finally:
        await upload.close()
    return page.render("permit/verify.html", verification=verification, check=check)


@router.post("/track/permit")
async def track_permit(page: PageDep, form: CheckedForm) -> Response:
    reg = str(form.get("registration_number") or "").strip().upper()
    code = str(form.get("access_code") or "").strip()
    if not _REGISTRATION.match(reg):
        raise tracking_not_found()
    body = parse_form(TrackBody, access_code=code)
    number, content = await permits.applicant_pdf(page.services, reg, body.access_code)
    return StreamingResponse(
        content,
        media_type=permits.PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{permits.pdf_filename(number)}"'},
    )
