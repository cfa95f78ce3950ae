"""Documents (10A): upload into a slot (multipart, streamed), list slots with versions and
verdicts, download (logged).

The applicant proves the access code in the ``X-Access-Code`` header (uploads: the body is
the file) or in the JSON body, never in the URL. Staff use their token; a file of an
application that never visited their counters answers 404 like a file that is not there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from loket.api.deps import IdempotencyKey, ServicesDep, StaffUser, TaskReader
from loket.api.errors import AUTH_RESPONSES, CHANGE_RESPONSES, ERROR_RESPONSES
from loket.edge.errors import Invalid
from loket.edge.params import RegistrationNumber
from loket.edge.uploads import parts
from loket.route.model import IDENT
from loket.services import documents
from loket.services.documents import DocumentsOut, Download
from loket.text import Line

SlotId = Annotated[str, Path(pattern=IDENT, max_length=64, description="a document slot id")]
VersionNo = Annotated[int, Path(ge=1, le=100_000)]
AccessCode = Annotated[str, Header(alias="X-Access-Code", min_length=1, max_length=64)]
FILE_FIELD = "file"

public_router = APIRouter(prefix="/api/public", tags=["documents"], responses=ERROR_RESPONSES)
staff_router = APIRouter(
    prefix="/api/staff", tags=["documents"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

_UPLOAD_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {FILE_FIELD: {"type": "string", "format": "binary"}},
                    "required": [FILE_FIELD],
                }
            }
        },
        "required": True,
    }
}


class AccessBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_code: Line = Field(min_length=1, max_length=64)


async def file_part(request: Request) -> AsyncIterator[bytes]:
    """The chunks of the body's ``file`` part, streamed; other parts are skipped."""
    async for part in parts(request.stream(), request.headers.get("content-type", "")):
        if part.name == FILE_FIELD and part.filename is not None:
            async for chunk in part.chunks():
                yield chunk
            return
    raise Invalid("invalid_request", fields=FILE_FIELD)


def _response(download: Download, registration_number: str) -> StreamingResponse:
    ext = download.media_type.rsplit("/", 1)[-1]
    name = f"{registration_number}-{download.slot}-v{download.version}.{ext}"
    return StreamingResponse(
        download.content,
        media_type=download.media_type,
        headers={
            "Content-Length": str(download.size),
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-SHA256": download.sha256,
            "X-Content-Type-Options": "nosniff",
        },
    )


@public_router.post(
    "/applications/{registration_number}/documents/{slot}",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document into a slot (multipart field 'file'); a new version",
    responses=CHANGE_RESPONSES,
    openapi_extra=_UPLOAD_DOC,
)
async def post_applicant_upload(
    services: ServicesDep,
    request: Request,
    registration_number: RegistrationNumber,
    slot: SlotId,
    access_code: AccessCode,
    idempotency_key: IdempotencyKey,
) -> DocumentsOut:
    return await documents.applicant_upload(
        services, registration_number, access_code, slot, file_part(request), key=idempotency_key
    )


@public_router.post(
    "/applications/{registration_number}/documents",
    summary="The document slots, their versions and the counters' verdicts",
)
async def post_applicant_documents(
    services: ServicesDep, registration_number: RegistrationNumber, body: AccessBody
) -> DocumentsOut:
    return await documents.applicant_documents(services, registration_number, body.access_code)


@public_router.post(
    "/applications/{registration_number}/documents/{slot}/{version}/download",
    summary="Download one version of one's own document",
    response_class=StreamingResponse,
)
async def post_applicant_download(
    services: ServicesDep,
    registration_number: RegistrationNumber,
    slot: SlotId,
    version: VersionNo,
    body: AccessBody,
) -> StreamingResponse:
    download = await documents.applicant_download(
        services, registration_number, body.access_code, slot, version
    )
    return _response(download, registration_number)


@staff_router.post(
    "/applications/{registration_number}/documents/{slot}",
    status_code=status.HTTP_201_CREATED,
    summary="Upload for a walk-in applicant at the registration counter",
    responses=CHANGE_RESPONSES,
    openapi_extra=_UPLOAD_DOC,
)
async def post_staff_upload(
    services: ServicesDep,
    user: StaffUser,
    request: Request,
    registration_number: RegistrationNumber,
    slot: SlotId,
    idempotency_key: IdempotencyKey,
) -> DocumentsOut:
    return await documents.staff_upload(
        services, user, registration_number, slot, file_part(request), key=idempotency_key
    )


@staff_router.get(
    "/applications/{registration_number}/documents",
    summary="Document slots with every version and the verdicts of each step",
)
async def get_staff_documents(
    services: ServicesDep, user: TaskReader, registration_number: RegistrationNumber
) -> DocumentsOut:
    return await documents.staff_documents(services, user, registration_number)


@staff_router.get(
    "/applications/{registration_number}/documents/{slot}/{version}",
    summary="Download one version of a document (logged)",
    response_class=StreamingResponse,
)
async def get_staff_download(
    services: ServicesDep,
    user: TaskReader,
    registration_number: RegistrationNumber,
    slot: SlotId,
    version: VersionNo,
) -> StreamingResponse:
    download = await documents.staff_download(services, user, registration_number, slot, version)
    return _response(download, registration_number)
