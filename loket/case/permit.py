"""The issued permit in the case core (issue 10 §2): what the issuing decision asks the
numbering activity for, what comes back, and what the decision then records.

Approving the step with ``issues_permit`` needs an :class:`IssuedPermit` (its number and the
PDF's hash): the workflow numbers and renders it through activities first, then the case
core records ``permit_issued`` and the applicant's ``permit_ready`` notification in the
same batch as the decision. Pure: no I/O, no Temporal.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loket.case.draft import Draft
from loket.case.messages import DecisionRequest, Notification
from loket.refusal import RefusalCode, Refused
from loket.route.issuance import IssuedPermitSpec, mask_id
from loket.route.model import PermitType, Target, TaskStep

PERMIT_ISSUED = "permit_issued"
PERMIT_READY = "permit_ready"
VERIFY_PATH = "/verify/{number}"

Acting = Literal["definitive", "plt", "plh"]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumberingRequest(_Msg):
    """Everything the numbering activity needs; the rest comes from the officials table."""

    registration_number: str
    permit_type: str
    permit_name: str
    route_version: int
    issued_at: datetime
    utc_offset_hours: int = Field(description="the calendar's zone: the issue date is local")
    spec: IssuedPermitSpec
    legal_basis: tuple[str, ...]
    holder_name: str
    holder_id_masked: str | None = None
    object: tuple[tuple[str, str], ...] = Field(description="(label, value) as printed")


class Signer(_Msg):
    position: str
    title: str
    name: str
    nip: str
    acting: Acting


class PermitDocument(_Msg):
    """What the permit says, as numbered: the PDF is rendered from this alone."""

    number: str
    registration_number: str
    permit_type: str
    permit_name: str
    title: str
    template: str
    issued_on: date
    valid_until: date | None
    issuing_office: str
    holder_name: str
    holder_id_masked: str | None
    object: tuple[tuple[str, str], ...]
    legal_basis: tuple[str, ...]
    signer: Signer
    verify_url: str


class IssuedPermit(_Msg):
    """The numbered and rendered permit the issuing decision records."""

    number: str
    issued_on: date
    valid_until: date | None
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    pdf_size: int = Field(ge=1)


def issuing_step(permit: PermitType, step_id: str) -> TaskStep | None:
    step = next((s for s in permit.steps if s.id == step_id), None)
    return step if isinstance(step, TaskStep) and step.issues_permit else None


def issues_permit(permit: PermitType, request: DecisionRequest) -> bool:
    """Whether this decision issues the permit: approve on the issuing step."""
    step = issuing_step(permit, request.step_id)
    return (
        step is not None
        and permit.issued_permit is not None
        and step.outcomes.get(request.outcome) == Target.FINISH
    )


def _printable(value: Any) -> str:
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def numbering_request(
    permit: PermitType, data: dict[str, Any], registration_number: str, now: datetime, offset: int
) -> NumberingRequest:
    spec = permit.issued_permit
    assert spec is not None  # issues_permit() said so
    holder_id = data.get(spec.holder_id) if spec.holder_id else None
    return NumberingRequest(
        registration_number=registration_number,
        permit_type=permit.id,
        permit_name=permit.name,
        route_version=permit.version,
        issued_at=now,
        utc_offset_hours=offset,
        spec=spec,
        legal_basis=tuple(permit.legal_basis),
        holder_name=str(data.get(spec.holder_name, "")),
        holder_id_masked=mask_id(str(holder_id)) if holder_id else None,
        object=tuple(
            (permit.form[name].label, _printable(data[name]))
            for name in spec.object_fields
            if data.get(name) is not None
        ),
    )


def record_issue(
    permit: PermitType,
    draft: Draft,
    request: DecisionRequest,
    issued: IssuedPermit | None,
) -> None:
    """Before the decision's own records: ``permit_issued`` and ``permit_ready``. Refuses
    an issuing approval that arrives without its number (never issued unnumbered)."""
    if not issues_permit(permit, request):
        return
    if issued is None:
        raise Refused(RefusalCode.PERMIT_NOT_NUMBERED, step_id=request.step_id)
    draft.audit(
        PERMIT_ISSUED,
        request.actor,
        details={
            "permit_number": issued.number,
            "issued_on": issued.issued_on.isoformat(),
            "valid_until": issued.valid_until.isoformat() if issued.valid_until else None,
            "pdf_sha256": issued.pdf_sha256,
            "pdf_size": issued.pdf_size,
        },
    )
    draft.permit_number = issued.number
    reg = draft.before.registration_number
    draft.notifications.append(
        Notification(
            key=f"{reg}:{PERMIT_READY}:{draft.seq}",
            registration_number=reg,
            kind=PERMIT_READY,
            recipient="applicant",
            created_at=draft.now,
            payload={
                "registration_number": reg,
                "permit_type": permit.id,
                "permit_number": issued.number,
                "verify_path": VERIFY_PATH.format(number=issued.number),
            },
        )
    )


def issued_from_audit(entry_event: str, details: dict[str, Any]) -> tuple[str, str, int] | None:
    """(number, sha256, size) of a ``permit_issued`` audit entry, else None: how the store
    learns from a recorded batch that the permit is issued."""
    if entry_event != PERMIT_ISSUED:
        return None
    return str(details["permit_number"]), str(details["pdf_sha256"]), int(details["pdf_size"])
