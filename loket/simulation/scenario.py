"""The scenario file (``definitions/scenarios/*.yaml``): what is simulated.

One scenario is a period of working days at the mall: which permit types arrive and how
often, what applications look like, how many staff serve each counter, how long steps
take and how often files go back to the applicant. ``docs/simulation.md`` shows a full
example; every key is checked (unknown keys are errors, as in route definitions).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loket.simulation.distributions import Distribution, Exponential


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApplicationMix(_Strict):
    """One kind of application, as form values the route's conditions read."""

    weight: float = Field(default=1.0, gt=0)
    label: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class StepConfig(_Strict):
    service: Distribution | None = Field(
        default=None, description="staff working time per application (default: from deadline)"
    )
    delay: Distribution | None = Field(
        default=None,
        description="time the file lies before staff start on it (panel sessions, other "
        "duties); the clock runs. Default: none",
    )
    applicant_time: Distribution | None = Field(
        default=None,
        description="clock-paused steps: time until the applicant comes (default: from deadline)",
    )
    return_share: float | None = Field(default=None, ge=0, le=1)
    reject_share: float | None = Field(default=None, ge=0, le=1)
    outcomes: dict[str, float] | None = Field(
        default=None, description="explicit outcome weights; replaces return/reject shares"
    )


class PermitLoad(_Strict):
    permit: str | None = Field(default=None, description="permit type id in the catalog")
    file: str | None = Field(default=None, description="a permit file, relative to the scenario")
    arrivals_per_day: float = Field(ge=0, description="mean applications per working day")
    applications: list[ApplicationMix] = Field(default_factory=lambda: [ApplicationMix()])
    return_share: float = Field(
        default=0.0, ge=0, le=1, description="a step that can return the file does so this often"
    )
    max_returns: int = Field(
        default=2, ge=0, description="returns per step and application; later attempts pass"
    )
    reject_share: float = Field(default=0.0, ge=0, le=1)
    applicant_delay: Distribution = Field(
        default_factory=lambda: Exponential(mean=16.0),
        description="time the applicant takes to bring corrections (default: mean 2 days)",
    )
    steps: dict[str, StepConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> PermitLoad:
        if (self.permit is None) == (self.file is None):
            raise ValueError("give exactly one of 'permit' (catalog id) or 'file'")
        if self.return_share + self.reject_share > 1:
            raise ValueError("return_share + reject_share must not exceed 1")
        return self

    @property
    def source(self) -> str:
        return self.permit or self.file or ""


class Scenario(_Strict):
    name: str
    description: str = ""
    start: date = Field(description="first day of the period (the next working day counts)")
    working_days: int = Field(gt=0, description="applications arrive on this many working days")
    warmup_working_days: int = Field(
        default=0, ge=0, description="applications of the first days are left out of the stats"
    )
    drain_working_days: int = Field(
        default=60, ge=0, description="after the period: no arrivals, open files may finish"
    )
    seed: int = 1
    default_staff: int = Field(default=1, ge=1)
    staff: dict[str, int] = Field(
        default_factory=dict, description="'agency/counter' -> people serving it at once"
    )
    permits: list[PermitLoad] = Field(min_length=1)

    @model_validator(mode="after")
    def _staff_keys(self) -> Scenario:
        for key, count in self.staff.items():
            if key.count("/") != 1:
                raise ValueError(f"staff: '{key}' is not 'agency/counter'")
            if count < 1:
                raise ValueError(f"staff: '{key}' needs at least one person")
        if self.warmup_working_days >= self.working_days:
            raise ValueError("warmup_working_days must be shorter than working_days")
        return self
