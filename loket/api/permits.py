"""Issued permits over the JSON API (issue 10 §2): public verification by number and the
check of a PDF, the applicant's download (access code in the body), and revocation by an
administrator (``loket.services.permits``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from loket.api.deps import AdminUser, IdempotencyKey, ServicesDep
from loket.api.errors import ERROR_RESPONSES
from loket.edge.params import RegistrationNumber
from loket.route.issuance import NUMBER_MAX_LENGTH, NUMBER_PATTERN
from loket.services import permits
from loket.services.permits import PdfCheck, PermitVerification, RevokeBody
from loket.services.public import TrackBody

router = APIRouter(prefix="/api/public", tags=["public"], responses=ERROR_RESPONSES)
admin_router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERROR_RESPONSES)

PermitNumber = Annotated[
    str,
    Path(
        pattern=NUMBER_PATTERN,
        max_length=NUMBER_MAX_LENGTH,
        description="the permit's number, slashes and all",
        examples=["503/0001/PBG/DPMPTSP/2026"],
    ),
]


@router.get(
    "/issued-permits/{number:path}",
    summary="Verify an issued permit by its number (valid, expired or revoked)",
)
async def get_issued_permit(services: ServicesDep, number: PermitNumber) -> PermitVerification:
    return await permits.verify(services, number)


@router.post(
    "/issued-permits/{number:path}/check",
    summary="Check that a PDF (the request body) is exactly the one issued",
    # The file's bytes as the body, whatever its type: a forged file need not be a PDF.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def post_issued_permit_check(
    services: ServicesDep, number: PermitNumber, request: Request
) -> PdfCheck:
    return await permits.check_pdf(services, number, request.stream())


@router.post(
    "/applications/{registration_number}/permit",
    summary="Download the issued permit's PDF (the access code in the body)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def post_permit_download(
    services: ServicesDep, registration_number: RegistrationNumber, body: TrackBody
) -> StreamingResponse:
    number, content = await permits.applicant_pdf(services, registration_number, body.access_code)
    return StreamingResponse(
        content,
        media_type=permits.PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{permits.pdf_filename(number)}"'},
    )


@admin_router.post(
    "/issued-permits/{number:path}/revoke",
    summary="Revoke an issued permit (admin; the reason is public)",
)
async def post_issued_permit_revoke(
    services: ServicesDep,
    number: PermitNumber,
    body: RevokeBody,
    user: AdminUser,
    idempotency_key: IdempotencyKey,
) -> PermitVerification:
    # Revoking is idempotent by state (a revoked permit stays as revoked), so the key
    # needs no record of its own.
    del idempotency_key
    return await permits.revoke(services, number, body.reason, user)
