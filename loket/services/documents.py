"""Documents: upload into a slot (applicant, or registration staff for a walk-in), list the
slots with their versions and verdicts, and download (logged) for those allowed.

An upload is checked before anything is kept: the case core is asked whether this actor
may upload into this slot now (query ``check_upload``), the type is read from the first
bytes, the size is bounded while it streams into the file store, and only then does the
Update ``attach_document`` carry the file's reference (SHA-256, size, type) to the case.
If the Update is refused after all (the case changed in between), the file goes again
unless some application holds the same content.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loket import metrics
from loket.case.document_models import FileRef
from loket.case.documents import AttachRequest, UploadAnswer, UploadCheck, check_type, too_large
from loket.case.messages import Actor
from loket.files import FileStore, FileTooLarge, file_store
from loket.files.sniff import HEAD_BYTES
from loket.files.sniff import media_type as sniff
from loket.refusal import RefusalCode, Refused
from loket.route.documents import MB, Slot, slot, slots
from loket.route.model import TaskStep
from loket.services.context import Services
from loket.services.errors import NotFound
from loket.services.public import check_access, tracking_not_found
from loket.services.workflow import refusal, update_workflow
from loket.store import documents as store
from loket.store import queries
from loket.store.users import User

log = logging.getLogger(__name__)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionOut(_Out):
    version: int
    sha256: str
    size: int
    media_type: str
    uploaded_at: datetime
    uploaded_by: str = Field(description="the uploader's role: applicant, staff, supervisor")


class VerdictOut(_Out):
    step_id: str
    version: int | None
    verdict: str
    note: str
    decided_at: datetime


class SlotOut(_Out):
    id: str
    name: str
    required: bool
    accept: list[str]
    max_mb: int
    versions: list[VersionOut]
    verdicts: list[VerdictOut] = Field(description="the latest verdict of each step")
    asked: bool = Field(description="a counter asked the applicant to upload this again")


class DocumentsOut(_Out):
    registration_number: str
    status: str
    waiting_for_applicant: bool
    corrections: list[str] = Field(description="slots the applicant is asked to upload again")
    slots: list[SlotOut]
    applicant_may_upload: bool = Field(
        description="a hint for pages: at submission or on return (the case core decides)"
    )
    registration_counter: str = Field(description="agency/counter where staff upload for walk-ins")


def files(services: Services) -> FileStore:
    return file_store(services.settings)


async def _application(services: Services, registration_number: str) -> queries.ApplicationRow:
    async with services.acquire() as conn:
        app = await queries.application(conn, registration_number)
    if app is None:
        raise NotFound("application_not_found", registration_number=registration_number)
    return app


async def _slot_of(services: Services, app: queries.ApplicationRow, slot_id: str) -> Slot:
    permit = await services.pinned_permit(app.permit_type, app.route_version)
    found = slot(permit, app.data, slot_id) if permit else None
    if found is None:
        raise Refused(RefusalCode.UNKNOWN_DOCUMENT, slot=slot_id)
    return found


async def _checked(found: Slot, chunks: AsyncIterable[bytes]) -> tuple[str, AsyncIterator[bytes]]:
    """The sniffed type (refused unless the slot accepts it) and the whole content again."""
    source = aiter(chunks)
    head = b""
    async for chunk in source:
        head += chunk
        if len(head) >= HEAD_BYTES:
            break
    kind = sniff(head)
    check_type(found, kind)

    async def content() -> AsyncIterator[bytes]:
        if head:
            yield head
        async for chunk in source:
            yield chunk

    return kind, content()


async def may_upload(
    services: Services, registration_number: str, slot_id: str, actor: Actor
) -> Slot:
    """The slot, if ``actor`` may upload into it now (asked of the case, before any byte)."""
    app = await _application(services, registration_number)
    if app.status != "in_progress":
        raise Refused(RefusalCode.CLOSED, result=app.status)
    found = await _slot_of(services, app, slot_id)
    handle = services.client.get_workflow_handle(registration_number)
    answer = await handle.query(
        "check_upload", UploadCheck(slot=slot_id, actor=actor), result_type=UploadAnswer
    )
    if answer.code is not None:
        code = answer.code
        if code in (RefusalCode.NOT_YOUR_COUNTER, RefusalCode.UNKNOWN_STEP):
            raise document_not_found()  # "not yours" answers like "not there"
        raise refusal(code, answer.params)
    return found


async def check_applicant(services: Services, registration_number: str, code: str) -> Actor:
    """The applicant, once the access code matches (the brakes first)."""
    await check_access(services, "upload", registration_number, code)
    return Actor(username=f"applicant:{registration_number}", role="applicant")


async def upload(
    services: Services,
    registration_number: str,
    slot_id: str,
    chunks: AsyncIterable[bytes],
    *,
    actor: Actor,
    key: str,
    user: User | None = None,
) -> DocumentsOut:
    """Store one file into ``slot_id`` as its next version; refused: nothing is kept."""
    found = await may_upload(services, registration_number, slot_id, actor)
    kind, content = await _checked(found, chunks)
    store_ = files(services)
    try:
        stored = await store_.put(content, max_size=found.max_bytes, media_type=kind)
    except FileTooLarge:
        raise too_large(found) from None
    request = AttachRequest(
        slot=slot_id,
        file=FileRef(sha256=stored.sha256, size=stored.size, media_type=stored.media_type),
        actor=actor,
    )
    try:
        await update_workflow(
            services,
            registration_number,
            "attach_document",
            request,
            operation="attach_document",
            key=key,
            user=user,
        )
    except Refused:
        async with services.acquire() as conn:
            held = await store.is_referenced(conn, stored.sha256)
        if not held:
            await store_.delete(stored.sha256)
        raise
    metrics.UPLOADS.labels(kind=slot_id).inc()
    metrics.UPLOAD_BYTES.inc(stored.size)
    log.info(
        "document uploaded",
        extra={"registration_number": registration_number, "slot": slot_id, "size": stored.size},
    )
    return await documents_of(services, registration_number)


async def applicant_upload(
    services: Services,
    registration_number: str,
    code: str,
    slot_id: str,
    chunks: AsyncIterable[bytes],
    *,
    key: str,
) -> DocumentsOut:
    actor = await check_applicant(services, registration_number, code)
    return await upload(services, registration_number, slot_id, chunks, actor=actor, key=key)


async def staff_upload(
    services: Services,
    user: User,
    registration_number: str,
    slot_id: str,
    chunks: AsyncIterable[bytes],
    *,
    key: str,
) -> DocumentsOut:
    """At the registration counter, for a walk-in applicant (the case checks the counter)."""
    await _application(services, registration_number)
    return await upload(
        services, registration_number, slot_id, chunks, actor=user.actor(), key=key, user=user
    )


# --- reading -----------------------------------------------------------------------------


def _corrections(events: list[queries.AuditRow], waiting: bool) -> list[str]:
    """The slots named by the returns still waiting for the applicant."""
    asked: list[str] = []
    for e in events:
        if e.event == "step_resumed":
            asked = []
        elif e.event == "step_returned":
            asked += [str(s) for s in e.details.get("corrections") or [] if s not in asked]
    return asked if waiting else []


async def documents_of(services: Services, registration_number: str) -> DocumentsOut:
    app = await _application(services, registration_number)
    permit = await services.pinned_permit(app.permit_type, app.route_version)
    async with services.acquire() as conn:
        versions = await store.versions(conn, registration_number)
        verdicts = await store.verdicts(conn, registration_number)
        events = await queries.audit_trail(conn, registration_number)
        tasks = await queries.tasks_of(conn, registration_number)
    asked = _corrections(events, app.waiting_for_applicant)
    out: list[SlotOut] = []
    for s in slots(permit, app.data) if permit else []:
        latest: dict[str, VerdictOut] = {}
        for v in verdicts:
            if v.slot == s.id:
                latest[v.step_id] = VerdictOut(
                    step_id=v.step_id,
                    version=v.version,
                    verdict=v.verdict,
                    note=v.note,
                    decided_at=v.decided_at,
                )
        out.append(
            SlotOut(
                id=s.id,
                name=s.name,
                required=s.required,
                accept=list(s.accept),
                max_mb=s.max_bytes // MB,
                versions=[
                    VersionOut(
                        version=v.version,
                        sha256=v.sha256,
                        size=v.size,
                        media_type=v.media_type,
                        uploaded_at=v.uploaded_at,
                        uploaded_by=v.uploaded_by_role,
                    )
                    for v in versions
                    if v.slot == s.id
                ],
                verdicts=list(latest.values()),
                asked=s.id in asked,
            )
        )
    first = permit.steps[0] if permit else None
    registration = f"{first.agency}/{first.counter}" if isinstance(first, TaskStep) else ""
    at_submission = [(t.step_id, t.state) for t in tasks] == [(first.id if first else "", "open")]
    return DocumentsOut(
        registration_number=registration_number,
        status=app.status,
        waiting_for_applicant=app.waiting_for_applicant,
        corrections=asked,
        slots=out,
        applicant_may_upload=app.status == "in_progress"
        and (app.waiting_for_applicant or at_submission),
        registration_counter=registration,
    )


def document_not_found() -> NotFound:
    return NotFound("document_not_found")


async def may_read(services: Services, user: User, registration_number: str) -> bool:
    """Staff read the files of applications that visit (or visited) their counters;
    administrators and inspectors read every file."""
    if user.role in ("admin", "inspector"):
        return True
    if user.role not in ("staff", "supervisor"):
        return False
    agency = user.agency if user.role == "supervisor" else None
    async with services.acquire() as conn:
        return await store.visits_counters(conn, registration_number, user.counters, agency)


async def staff_documents(services: Services, user: User, registration_number: str) -> DocumentsOut:
    if not await may_read(services, user, registration_number):
        raise document_not_found()
    return await documents_of(services, registration_number)


async def applicant_documents(
    services: Services, registration_number: str, code: str
) -> DocumentsOut:
    await check_access(services, "track", registration_number, code)
    return await documents_of(services, registration_number)


class Download(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    slot: str
    version: int
    sha256: str
    size: int
    media_type: str
    content: Any = Field(description="AsyncIterator[bytes] over the file")


async def _download(
    services: Services, registration_number: str, slot_id: str, number: int, who: str, role: str
) -> Download:
    async with services.acquire() as conn:
        row = await store.version(conn, registration_number, slot_id, number)
        if row is None:
            raise document_not_found()
        await store.log_download(conn, registration_number, row, who, role)
    log.info(
        "document downloaded",
        extra={"registration_number": registration_number, "slot": slot_id, "role": role},
    )
    return Download(
        slot=row.slot,
        version=row.version,
        sha256=row.sha256,
        size=row.size,
        media_type=row.media_type,
        content=files(services).open(row.sha256),
    )


async def staff_download(
    services: Services, user: User, registration_number: str, slot_id: str, number: int
) -> Download:
    if not await may_read(services, user, registration_number):
        raise document_not_found()
    return await _download(services, registration_number, slot_id, number, user.username, user.role)


async def applicant_download(
    services: Services, registration_number: str, code: str, slot_id: str, number: int
) -> Download:
    try:
        await check_access(services, "download", registration_number, code)
    except NotFound:
        raise tracking_not_found() from None
    who = f"applicant:{registration_number}"
    return await _download(services, registration_number, slot_id, number, who, "applicant")


async def download_log(
    services: Services, registration_number: str
) -> list[dict[str, Any]]:  # for the inspectorate and the tests
    async with services.acquire() as conn:
        rows = await store.downloads(conn, registration_number)
    return [r.model_dump(mode="json") for r in rows]
