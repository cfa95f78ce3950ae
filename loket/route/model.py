"""Pydantic models of what agencies write: agencies, counters, permit types and routes.

A route is a flat list of steps. A task step is work at one agency's counter; each of its
outcomes names where the file goes next: another step's id or one of the reserved targets
below. A parallel step opens several branches that must all reach ``join`` (AND-join)
before the route goes on at its ``then``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from loket.calendar import WorkDuration
from loket.fees import FeeSchedule
from loket.label import Label

IDENT = r"^[a-z][a-z0-9_]*$"


class Target(StrEnum):
    """Reserved outcome targets; no step may use these as its id."""

    FINISH = "finish"  # the permit is granted: route complete
    REJECT = "reject"  # the permit ends rejected
    APPLICANT = "applicant"  # back to the applicant; the same step resumes on resubmission
    JOIN = "join"  # this parallel branch is done


RESERVED_TARGETS = frozenset(t.value for t in Target)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- agencies ----------------------------------------------------------------------------


class Counter(_Strict):
    id: str = Field(pattern=IDENT)
    name: str
    public: bool = Field(default=False, description="applicants come to this counter in person")
    staff_title: str = ""


class Agency(_Strict):
    id: str = Field(pattern=IDENT)
    name: str
    short: str = Field(description="abbreviation as the public knows it, e.g. DPUPR")
    head_title: str = Field(description="title of the agency head who receives escalations")
    counters: list[Counter] = Field(min_length=1)


class AgencyCatalog(_Strict):
    agencies: list[Agency] = Field(min_length=1)

    def counter_keys(self) -> set[tuple[str, str]]:
        return {(a.id, c.id) for a in self.agencies for c in a.counters}


# --- permit types ------------------------------------------------------------------------


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    CHOICE = "choice"


class FormField(_Strict):
    type: FieldType
    label: str
    required: bool = True
    choices: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = Field(default=None, ge=1)
    personal: bool = Field(default=False, description="personal data: never in search attributes")
    help: str = ""
    # readable pages (12c): names of the choice values, the label in English
    choice_labels: dict[str, Label] | None = Field(
        default=None, description="choice value -> the name people read; one per choice"
    )
    label_en: str = ""
    format: Literal["registration_number", "lapor_ticket"] | None = Field(
        default=None, description="a text format checked on submission (loket/route/formats.py)"
    )

    @model_validator(mode="after")
    def _choices_match_type(self) -> FormField:
        if (self.type is FieldType.CHOICE) != bool(self.choices):
            raise ValueError("'choices' is given exactly for fields of type 'choice'")
        if self.format is not None and self.type is not FieldType.STRING:
            raise ValueError("'format' is given only for fields of type 'string'")
        return self


class RequiredDocument(_Strict):
    id: str = Field(pattern=IDENT)
    name: str
    required_when: str | None = Field(default=None, description="CEL; absent: always required")
    note: str = ""
    required_when_label: Label | None = Field(
        default=None, description="'required_when' in plain words, as the public reads it"
    )


class EscalationRule(_Strict):
    """When a step stalls: at a share of its deadline, or some working time after it."""

    at_percent: int | None = Field(default=None, ge=1, le=1000)
    after_due: WorkDuration | None = None
    action: Literal["remind", "notify", "escalate"]
    to: Literal["assignee", "counter", "supervisor", "agency_head", "inspectorate"]

    @model_validator(mode="after")
    def _one_trigger(self) -> EscalationRule:
        if (self.at_percent is None) == (self.after_due is None):
            raise ValueError("give exactly one of 'at_percent' or 'after_due'")
        return self


class DeemedApproval(_Strict):
    """Fiktif positif: a complete application undecided at the deadline counts as approved."""

    legal_basis: str = Field(min_length=3, max_length=500)


class DeadlinePolicy(_Strict):
    """An outcome the case takes on its own when the step passes its deadline undecided."""

    outcome: str = Field(pattern=IDENT)
    legal_basis: str = Field(min_length=3, max_length=500)


class TaskStep(_Strict):
    id: str = Field(pattern=IDENT)
    name: str
    agency: str
    counter: str
    deadline: WorkDuration
    outcomes: dict[Annotated[str, Field(pattern=IDENT)], str] = Field(min_length=1)
    when: str | None = Field(default=None, description="CEL; when false the step is skipped")
    description: str = ""
    applicant_visit: bool = Field(default=False, description="the applicant comes to the counter")
    clock: Literal["running", "paused"] = Field(
        default="running",
        description="'paused': the step waits on the applicant (e.g. payment); no SLA time counts",
    )
    assesses_fees: bool = Field(default=False, description="the bill (SKRD) is issued here")
    escalation: list[EscalationRule] | None = None
    when_label: Label | None = Field(
        default=None, description="'when' in plain words, as the public reads it"
    )
    # Deadline policies (issue 12), off by default; one rule: loket/case/deadline_policy.py.
    deemed_approval: DeemedApproval | None = None
    on_deadline: DeadlinePolicy | None = None
    applicant_outcomes: list[Annotated[str, Field(pattern=IDENT)]] = Field(
        default_factory=list,
        description="outcomes the applicant (a complainant) may choose while the step is open",
    )


class ParallelStep(_Strict):
    id: str = Field(pattern=IDENT)
    name: str
    parallel: list[str] = Field(min_length=2, description="first step of each branch")
    then: str = Field(description="where the route goes once every branch reached 'join'")
    description: str = ""


def _step_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "parallel" if "parallel" in value else "task"
    return "parallel" if isinstance(value, ParallelStep) else "task"


Step = Annotated[
    Annotated[TaskStep, Tag("task")] | Annotated[ParallelStep, Tag("parallel")],
    Discriminator(_step_kind),
]


class ServiceTimeVariant(_Strict):
    when: str = Field(description="CEL over the form")
    duration: WorkDuration
    label: str
    label_en: str = ""


class ServiceTime(_Strict):
    standard: WorkDuration
    variants: list[ServiceTimeVariant] = Field(default_factory=list)


class PermitType(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,11}$", description="used in registration numbers")
    name: str
    name_en: str = ""
    version: int = Field(ge=1)
    legal_basis: list[str] = Field(min_length=1)
    description: str = ""
    product: str = Field(description="what the applicant receives")
    complaints: str = Field(description="complaint channel, published with the service standard")
    service_time: ServiceTime
    form: dict[Annotated[str, Field(pattern=IDENT)], FormField]
    documents: list[RequiredDocument] = Field(default_factory=list)
    fees: FeeSchedule
    escalation: list[EscalationRule] = Field(
        default_factory=list, description="route default for steps that give none"
    )
    steps: list[Step] = Field(min_length=1)

    @property
    def key(self) -> str:
        return f"{self.id}@v{self.version}"
