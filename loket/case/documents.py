"""The case core's document rules: who may upload into which slot and when, what staff
verdicts and a return's corrections must name, and the records each makes.

An upload is a new version of its slot (earlier versions stay); the applicant uploads at
submission (while the first step is open) and, once a counter returned the file, into the
slots it named; staff of the registration counter upload for walk-in applicants at any time
while the file is in progress. Pure: no I/O, no Temporal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from loket.case import checks
from loket.case.document_models import (
    DocumentVerdict,
    DocumentVersion,
    FileRef,
    VerdictInput,
)
from loket.case.draft import Change, Draft
from loket.case.messages import Actor, DecisionRequest
from loket.case.state import CaseState
from loket.refusal import RefusalCode, Refused
from loket.route.documents import MB, Slot, slot, slots
from loket.route.model import Target, TaskStep

if TYPE_CHECKING:
    from datetime import datetime

    from loket.case.core import Case


class AttachRequest(BaseModel):
    """Update ``attach_document``: a file already stored (and checked) goes into a slot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slot: str = Field(min_length=1, max_length=64)
    file: FileRef
    actor: Actor


class UploadCheck(BaseModel):
    """Query ``check_upload``: may ``actor`` upload into ``slot`` now? Asked before any byte
    is stored, so a refused upload leaves nothing behind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slot: str = Field(min_length=1, max_length=64)
    actor: Actor


class UploadAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str | None = None  # a RefusalCode value; None: allowed
    params: dict[str, Any] = Field(default_factory=dict)


def answer_upload(case: Case, state: CaseState, request: UploadCheck) -> UploadAnswer:
    try:
        check_uploader(case, state, request.slot, request.actor)
    except Refused as exc:
        return UploadAnswer(code=exc.code.value, params=dict(exc.params))
    return UploadAnswer()


def registration_step(case: Case) -> TaskStep | None:
    first = case.graph.steps.get(case.graph.first)
    return first if isinstance(first, TaskStep) else None


def _slot(case: Case, state: CaseState, slot_id: str) -> Slot:
    found = slot(case.permit, state.data, slot_id)
    if found is None:
        raise Refused(RefusalCode.UNKNOWN_DOCUMENT, slot=slot_id)
    return found


def check_type(found: Slot, media_type: str) -> None:
    """The slot's rules on a file's sniffed type and its size: one implementation, used by
    the upload as it streams and again by the Update."""
    if media_type not in found.media_types:
        raise Refused(
            RefusalCode.DOCUMENT_TYPE_REFUSED, slot=found.id, accept=found.accept, found=media_type
        )


def too_large(found: Slot) -> Refused:
    return Refused(RefusalCode.DOCUMENT_TOO_LARGE, slot=found.id, max_mb=found.max_bytes // MB)


def check_file(found: Slot, file: FileRef) -> None:
    check_type(found, file.media_type)
    if file.size > found.max_bytes:
        raise too_large(found)


def check_uploader(case: Case, state: CaseState, slot_id: str, actor: Actor) -> Slot:
    """Whether ``actor`` may upload into ``slot_id`` now (the file itself not yet known)."""
    if state.finished:
        raise Refused(RefusalCode.CLOSED, result=state.route.result)
    registration = registration_step(case)
    if actor.role in ("staff", "supervisor"):
        if registration is None or not actor.serves(registration.agency, registration.counter):
            raise Refused(RefusalCode.NOT_YOUR_COUNTER, step_id=case.graph.first)
        return _slot(case, state, slot_id)
    if actor.role != "applicant":
        raise Refused(RefusalCode.WRONG_ROLE, role=actor.role)
    found = _slot(case, state, slot_id)
    returned = any(t.status == "returned" for t in state.route.tokens)
    if returned:
        asked = state.documents.corrections
        if asked and slot_id not in asked:
            raise Refused(RefusalCode.DOCUMENT_NOT_RETURNED, slot=slot_id, asked=asked)
        return found
    first = state.route.token(case.graph.first)
    if first is None or state.route.attempt_of(case.graph.first) != 1:
        raise Refused(RefusalCode.DOCUMENTS_LOCKED)
    return found


def check_attach(case: Case, state: CaseState, request: AttachRequest) -> Slot:
    found = check_uploader(case, state, request.slot, request.actor)
    check_file(found, request.file)
    return found


def attach(case: Case, state: CaseState, request: AttachRequest, now: datetime) -> Change:
    check_attach(case, state, request)
    draft = Draft(case, state, now)
    previous = [v for v in state.documents.versions if v.slot == request.slot]
    version = len(previous) + 1
    draft.audit(
        "document_uploaded",
        request.actor,
        details={
            "slot": request.slot,
            "version": version,
            "sha256": request.file.sha256,
            "size": request.file.size,
            "media_type": request.file.media_type,
        },
    )
    role = request.actor.role
    uploaded = DocumentVersion(
        slot=request.slot,
        version=version,
        file=request.file,
        uploaded_at=now,
        uploaded_by=request.actor.username,
        uploaded_by_role="applicant" if role == "applicant" else role,
        audit_seq=draft.seq,
    )
    draft.documents = draft.documents.model_copy(
        update={"versions": (*draft.documents.versions, uploaded)}
    )
    draft.uploads.append(uploaded)
    return draft.done()


# --- at a staff decision -----------------------------------------------------------------


def _returns(case: Case, request: DecisionRequest) -> bool:
    step = case.graph.task(request.step_id)
    return step.outcomes.get(request.outcome) == Target.APPLICANT.value


def check_decision(case: Case, state: CaseState, request: DecisionRequest) -> None:
    """Verdicts and corrections name slots of this application; a return at a step that
    checks documents names at least one item to correct."""
    step = case.graph.task(request.step_id)
    returning = step.checks_documents and _returns(case, request)
    if not (request.verdicts or request.corrections or returning):
        return  # most decisions name no document: no slot conditions to evaluate
    known = {s.id for s in slots(case.permit, state.data)}
    for verdict in request.verdicts:
        if verdict.slot not in known:
            raise Refused(RefusalCode.UNKNOWN_DOCUMENT, slot=verdict.slot)
        checks.text(f"verdicts.{verdict.slot}.note", verdict.note)
    for slot_id in request.corrections:
        if slot_id not in known:
            raise Refused(RefusalCode.UNKNOWN_DOCUMENT, slot=slot_id)
    if returning and known and not request.corrections:
        raise Refused(RefusalCode.CORRECTIONS_REQUIRED, step_id=request.step_id)


def record_decision(case: Case, draft: Draft, request: DecisionRequest) -> None:
    """Before the route moves: each verdict audited and kept; a return's corrections set."""
    clock = draft.clocks[request.step_id]
    latest: dict[str, VerdictInput] = {v.slot: v for v in request.verdicts}
    for verdict in latest.values():
        current = draft.documents.latest(verdict.slot)
        version = current.version if current else None
        draft.audit(
            "document_checked",
            request.actor,
            clock=clock,
            details={
                "slot": verdict.slot,
                "version": version,
                "verdict": verdict.verdict,
                "note": verdict.note,
            },
        )
        record = DocumentVerdict(
            slot=verdict.slot,
            version=version,
            step_id=clock.step_id,
            attempt=clock.attempt,
            verdict=verdict.verdict,
            note=verdict.note,
            decided_by=request.actor.username,
            decided_at=draft.now,
            audit_seq=draft.seq,
        )
        draft.verdicts.append(record)
        draft.documents = draft.documents.model_copy(
            update={"verdicts": (*draft.documents.verdicts, record)}
        )
    if request.corrections and _returns(case, request):
        asked = tuple(dict.fromkeys(request.corrections))
        draft.corrections = asked
        merged = tuple(dict.fromkeys((*draft.documents.corrections, *asked)))
        draft.documents = draft.documents.model_copy(update={"corrections": merged})


def record_resubmission(draft: Draft) -> None:
    """The applicant answered the return: no slot is waiting for a correction any more."""
    if draft.documents.corrections:
        draft.documents = draft.documents.model_copy(update={"corrections": ()})
