"""What the public reads: the published service standard of each permit type and the fee
simulator, priced by the same ``assess`` that issues the bill."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loket.calendar import WorkDuration
from loket.fees import FeeAssessment, FeeSchedule, assess
from loket.label import Label
from loket.route.form import FormValue, normalize
from loket.route.loader import Catalog
from loket.route.model import (
    FieldType,
    FormField,
    ParallelStep,
    PermitType,
    RequiredDocument,
    TaskStep,
)
from loket.route.standard import required_documents, service_duration

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
    label_en: str = ""


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
    label_en: str = ""
    choice_labels: dict[str, Label] | None = None


class DocumentOut(_Out):
    id: str
    name: str
    required_when: str | None
    note: str
    required_when_label: Label | None = None

    @classmethod
    def of(cls, d: RequiredDocument) -> DocumentOut:
        return cls(
            id=d.id,
            name=d.name,
            required_when=d.required_when,
            note=d.note,
            required_when_label=d.required_when_label,
        )


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
    when_label: Label | None = None


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
            ServiceTimeVariantOut(
                label=v.label, when=v.when, duration=Duration.of(v.duration), label_en=v.label_en
            )
            for v in st.variants
        ],
    )


def fee_summary(fees: FeeSchedule) -> str:
    if fees.free:
        return FREE_LABEL
    # Without a published text: each item's formula in words (its label), never the CEL.
    return fees.formula_text.strip() or "; ".join(
        f"{i.name}: {i.formula_label.id if i.formula_label else i.formula or f'Rp {i.amount}'}"
        for i in fees.items
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
        when_label=step.when_label,
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
        label_en=spec.label_en,
        choice_labels=spec.choice_labels,
    )


def permit_detail(catalog: Catalog, permit: PermitType) -> PermitDetail:
    return PermitDetail(
        **permit_summary(permit).model_dump(),
        legal_basis=list(permit.legal_basis),
        product=permit.product,
        complaints=permit.complaints,
        form=[_field_out(n, s) for n, s in permit.form.items()],
        documents=[DocumentOut.of(d) for d in permit.documents],
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
        documents=[DocumentOut.of(d) for d in required_documents(permit, data)],
    )
