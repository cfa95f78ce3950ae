"""The public side: the published service standard of each permit type, the fee simulator,
submission, tracking by registration number and access code, and resubmission.

No sign-in here. The access code travels in request bodies (POST), never in URLs, so it
does not end up in logs; a wrong code answers exactly like an unknown number.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from loket.api.deps import NotFound, Services, ServicesDep, update_workflow, utcnow
from loket.applications import access_code_matches, submit_application
from loket.calendar import WorkDuration
from loket.fees import FeeAssessment, FeeSchedule, assess
from loket.route.form import FormError, FormValue, merge_corrections, normalize
from loket.route.loader import Catalog
from loket.route.model import FieldType, FormField, ParallelStep, PermitType, TaskStep
from loket.route.standard import required_documents, service_duration
from loket.store import queries
from workflows.messages import Actor, ResubmitRequest

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/public", tags=["public"])

# Where an applicant follows their file (POST the access code there).
TRACKING_PATH = "/api/public/applications/{registration_number}/track"
FREE_LABEL = "Gratis"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- the published standard --------------------------------------------------------------


class Duration(_Out):
    text: str = Field(description="shorthand: '28d' working days, '4h' working hours")
    working_days: int | None
    working_hours: int | None

    @classmethod
    def of(cls, d: WorkDuration) -> Duration:
        return cls(text=str(d), working_days=d.working_days, working_hours=d.working_hours)


class ServiceTimeVariantOut(_Out):
    label: str
    when: str
    duration: Duration


class ServiceTimeOut(_Out):
    standard: Duration
    variants: list[ServiceTimeVariantOut]


class PermitSummary(_Out):
    id: str
    name: str
    name_en: str
    version: int
    description: str
    service_time: ServiceTimeOut
    free: bool
    fee_summary: str = Field(description="'Gratis', or the published formula")


class FormFieldOut(_Out):
    name: str
    type: FieldType
    label: str
    required: bool
    choices: list[str] | None
    minimum: float | None
    maximum: float | None
    max_length: int | None
    help: str


class DocumentOut(_Out):
    id: str
    name: str
    required_when: str | None
    note: str


class StepOut(_Out):
    id: str
    name: str
    kind: Literal["task", "parallel"]
    description: str
    agency: str | None = None
    agency_name: str | None = None
    counter: str | None = None
    counter_name: str | None = None
    deadline: Duration | None = None
    when: str | None = None
    applicant_visit: bool = False
    clock: Literal["running", "paused"] = "running"
    outcomes: dict[str, str] = Field(default_factory=dict)
    parallel: list[str] = Field(default_factory=list)
    then: str | None = None


class PermitDetail(PermitSummary):
    legal_basis: list[str]
    product: str
    complaints: str
    form: list[FormFieldOut]
    documents: list[DocumentOut]
    steps: list[StepOut]
    fees: FeeSchedule


def _service_time(permit: PermitType) -> ServiceTimeOut:
    st = permit.service_time
    return ServiceTimeOut(
        standard=Duration.of(st.standard),
        variants=[
            ServiceTimeVariantOut(label=v.label, when=v.when, duration=Duration.of(v.duration))
            for v in st.variants
        ],
    )


def fee_summary(fees: FeeSchedule) -> str:
    if fees.free:
        return FREE_LABEL
    return fees.formula_text.strip() or "; ".join(
        f"{i.name}: {i.formula if i.formula is not None else f'Rp {i.amount}'}" for i in fees.items
    )


def permit_summary(permit: PermitType) -> PermitSummary:
    return PermitSummary(
        id=permit.id,
        name=permit.name,
        name_en=permit.name_en,
        version=permit.version,
        description=permit.description,
        service_time=_service_time(permit),
        free=permit.fees.free,
        fee_summary=fee_summary(permit.fees),
    )


def list_permits(catalog: Catalog) -> list[PermitSummary]:
    return [permit_summary(p) for p in sorted(catalog.permits.values(), key=lambda p: p.id)]


def _step_out(step: TaskStep | ParallelStep, catalog: Catalog) -> StepOut:
    if isinstance(step, ParallelStep):
        return StepOut(
            id=step.id,
            name=step.name,
            kind="parallel",
            description=step.description,
            parallel=list(step.parallel),
            then=step.then,
        )
    agency = next((a for a in catalog.agencies.agencies if a.id == step.agency), None)
    counter = next((c for c in agency.counters if c.id == step.counter), None) if agency else None
    return StepOut(
        id=step.id,
        name=step.name,
        kind="task",
        description=step.description,
        agency=step.agency,
        agency_name=agency.name if agency else step.agency,
        counter=step.counter,
        counter_name=counter.name if counter else step.counter,
        deadline=Duration.of(step.deadline),
        when=step.when,
        applicant_visit=step.applicant_visit,
        clock=step.clock,
        outcomes=dict(step.outcomes),
    )


def _field_out(name: str, spec: FormField) -> FormFieldOut:
    return FormFieldOut(
        name=name,
        type=spec.type,
        label=spec.label,
        required=spec.required,
        choices=spec.choices,
        minimum=spec.minimum,
        maximum=spec.maximum,
        max_length=spec.max_length,
        help=spec.help,
    )


def permit_detail(catalog: Catalog, permit: PermitType) -> PermitDetail:
    return PermitDetail(
        **permit_summary(permit).model_dump(),
        legal_basis=list(permit.legal_basis),
        product=permit.product,
        complaints=permit.complaints,
        form=[_field_out(n, s) for n, s in permit.form.items()],
        documents=[
            DocumentOut(id=d.id, name=d.name, required_when=d.required_when, note=d.note)
            for d in permit.documents
        ],
        steps=[_step_out(s, catalog) for s in permit.steps],
        fees=permit.fees,
    )


# --- the fee simulator -------------------------------------------------------------------


class FormBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form: dict[str, Any] = Field(description="field name -> value, as in the permit's form")


class ServiceTimeFor(_Out):
    duration: Duration
    rule: str = Field(description="'standard' or the label of the variant that applies")


class FeePreview(_Out):
    fees: FeeAssessment
    service_time: ServiceTimeFor
    documents: list[DocumentOut]


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _fee_fields(permit: PermitType) -> set[str]:
    """Form fields the fee expressions name: the simulator needs these and no others."""
    names: set[str] = set()
    for _, source in permit.fees.expressions():
        names.update(_IDENTIFIER.findall(source))
    return names & set(permit.form)


def _placeholder(spec: FormField) -> FormValue:
    """A valid value for a field the fee does not depend on."""
    if spec.type is FieldType.CHOICE:
        return (spec.choices or [""])[0]
    if spec.type is FieldType.BOOLEAN:
        return False
    if spec.type is FieldType.DATE:
        return "2000-01-01"
    if spec.type in (FieldType.INTEGER, FieldType.NUMBER):
        value = spec.minimum if spec.minimum is not None else 0.0
        if spec.maximum is not None:
            value = min(value, spec.maximum)
        return int(value) if spec.type is FieldType.INTEGER else value
    return "-"


def preview_fees(permit: PermitType, form: dict[str, Any]) -> FeePreview:
    """Price a (possibly partial) form with the same ``assess`` that issues the bill.

    Fields the fees do not depend on (name, identity number, address) may be left out; a
    field they depend on is required, and every given field is validated.
    """
    needed = _fee_fields(permit)
    filled = dict(form)
    for name, spec in permit.form.items():
        if name not in filled and spec.required and name not in needed:
            filled[name] = _placeholder(spec)
    data = normalize(permit, filled)
    duration, rule = service_duration(permit, data)
    return FeePreview(
        fees=assess(permit.fees, data),
        service_time=ServiceTimeFor(duration=Duration.of(duration), rule=rule),
        documents=[
            DocumentOut(id=d.id, name=d.name, required_when=d.required_when, note=d.note)
            for d in required_documents(permit, data)
        ],
    )


# --- applications ------------------------------------------------------------------------


class SubmitBody(FormBody):
    permit_type: str


class Submitted(_Out):
    registration_number: str
    access_code: str = Field(description="shown once: the applicant keeps it to track the file")
    tracking_url: str


class TrackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_code: str = Field(min_length=1, max_length=64)


class ResubmitBody(TrackBody):
    note: str = Field(default="", max_length=4000)
    form: dict[str, Any] | None = Field(
        default=None, description="corrected fields only; the others keep their values"
    )


async def submit(services: Services, permit_type: str, form: dict[str, Any]) -> Submitted:
    permit = services.catalog.permits.get(permit_type)
    if permit is None:
        raise FormError([{"field": "permit_type", "message": f"no permit type '{permit_type}'"}])
    done = await submit_application(
        client=services.client,
        pool=services.pool,
        permit=permit,
        calendar=services.calendar,
        form=form,
        task_queue=services.settings.temporal_task_queue,
        now=utcnow(),
        search_attributes=services.settings.search_attributes,
    )
    reg = done.registration_number
    log.info("application %s submitted", reg)
    return Submitted(
        registration_number=reg,
        access_code=done.access_code,
        tracking_url=TRACKING_PATH.format(registration_number=reg),
    )


_NO_SUCH_APPLICATION = "no application with this registration number and access code"


async def _check_access(services: Services, registration_number: str, code: str) -> None:
    async with services.pool.acquire() as conn:
        stored = await queries.access_code_hash(conn, registration_number)
    if not access_code_matches(code, stored):
        raise NotFound(_NO_SUCH_APPLICATION)


async def track(services: Services, registration_number: str, code: str) -> queries.Tracking:
    await _check_access(services, registration_number, code)
    async with services.pool.acquire() as conn:
        view = await queries.tracking(conn, services.catalog, registration_number)
    if view is None:
        raise NotFound(_NO_SUCH_APPLICATION)
    return view


async def resubmit(
    services: Services,
    registration_number: str,
    code: str,
    *,
    note: str = "",
    corrections: dict[str, Any] | None = None,
) -> queries.Tracking:
    """The applicant sends the corrections asked for; the returned steps reopen."""
    await _check_access(services, registration_number, code)
    async with services.pool.acquire() as conn:
        app = await queries.application(conn, registration_number)
    if app is None:
        raise NotFound(_NO_SUCH_APPLICATION)
    data = None
    if corrections:
        permit = services.permit(app.permit_type)
        # Checked here for a 422 naming the field; the workflow checks again against the
        # route version the application is pinned to, should today's differ.
        data = (
            merge_corrections(permit, app.data, corrections)
            if permit.version == app.route_version
            else corrections
        )
    request = ResubmitRequest(
        actor=Actor(username=f"applicant:{registration_number}", role="applicant"),
        note=note,
        data=data,
    )
    await update_workflow(
        services,
        registration_number,
        "resubmit",
        request,
        update_id=f"resubmit:{registration_number}:{app.last_seq}",
    )
    return await track(services, registration_number, code)


# --- routes ------------------------------------------------------------------------------


@router.get("/permits", summary="Permit types with service time and fee summary")
async def get_permits(services: ServicesDep) -> list[PermitSummary]:
    return list_permits(services.catalog)


@router.get("/permits/{permit_id}", summary="The published service standard of a permit type")
async def get_permit(services: ServicesDep, permit_id: str) -> PermitDetail:
    return permit_detail(services.catalog, services.permit(permit_id))


@router.post("/permits/{permit_id}/fees/preview", summary="Fee simulator (the billing formula)")
async def post_fee_preview(services: ServicesDep, permit_id: str, body: FormBody) -> FeePreview:
    return preview_fees(services.permit(permit_id), body.form)


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Submit an application; answers the registration number and access code",
)
async def post_application(services: ServicesDep, body: SubmitBody) -> Submitted:
    return await submit(services, body.permit_type, body.form)


@router.post(
    "/applications/{registration_number}/track",
    summary="Status, where the file is, due dates, fees and public history",
)
async def post_track(
    services: ServicesDep, registration_number: str, body: TrackBody
) -> queries.Tracking:
    return await track(services, registration_number, body.access_code)


@router.post(
    "/applications/{registration_number}/resubmit",
    summary="Send corrections for a file returned to the applicant",
)
async def post_resubmit(
    services: ServicesDep, registration_number: str, body: ResubmitBody
) -> queries.Tracking:
    return await resubmit(
        services, registration_number, body.access_code, note=body.note, corrections=body.form
    )
