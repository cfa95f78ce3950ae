"""Time distributions of a scenario: how long staff work on a step, how long an applicant
takes to bring corrections or to pay.

All times are *working* time (office hours only), written ``30m``, ``2h``, ``1.5d`` or as
a number of hours. ``d`` is a working day of ``day_hours`` (8 by default, the mall's
08:00-16:00): the simulator runs on the calendar's working timeline, where only office
time passes, so a 2h service started at 15:00 ends at 09:00 the next working day.
"""

from __future__ import annotations

import math
import random
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
DEFAULT_DAY_HOURS = 8.0


def parse_hours(value: object, day_hours: float = DEFAULT_DAY_HOURS) -> float:
    """``30m`` / ``2h`` / ``1.5d`` / a number of hours -> hours."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            amount, unit = float(match.group(1)), match.group(2)
            return {"m": amount / 60, "h": amount, "d": amount * day_hours}[unit]
    raise ValueError(f"not a duration: {value!r}; write e.g. '30m', '2h' or '1.5d'")


def _hours(value: object) -> float:
    return parse_hours(value)


Hours = Annotated[float, BeforeValidator(_hours), Field(ge=0)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fixed(_Dist):
    dist: Literal["fixed"] = "fixed"
    value: Hours

    def sample(self, rng: random.Random) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value


class Exponential(_Dist):
    dist: Literal["exponential"] = "exponential"
    mean: Hours = Field(gt=0)
    cap: Hours | None = Field(default=None, description="upper bound, e.g. the deadline")

    def sample(self, rng: random.Random) -> float:
        value = rng.expovariate(1.0 / self.mean)
        return min(value, self.cap) if self.cap is not None else value


class Triangular(_Dist):
    dist: Literal["triangular"] = "triangular"
    low: Hours
    mode: Hours
    high: Hours

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self

    def sample(self, rng: random.Random) -> float:
        return rng.triangular(self.low, self.high, self.mode)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3


class Uniform(_Dist):
    dist: Literal["uniform"] = "uniform"
    low: Hours
    high: Hours

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


class LogNormal(_Dist):
    """Given by its mean and standard deviation (what a data sheet reports), not mu/sigma."""

    dist: Literal["lognormal"] = "lognormal"
    mean: Hours = Field(gt=0)
    sd: Hours = Field(gt=0)
    cap: Hours | None = None

    def sample(self, rng: random.Random) -> float:
        sigma2 = math.log(1 + (self.sd / self.mean) ** 2)
        value = rng.lognormvariate(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2))
        return min(value, self.cap) if self.cap is not None else value


class Empirical(_Dist):
    """Resampled observations, e.g. step durations from the read model."""

    dist: Literal["empirical"] = "empirical"
    hours: tuple[float, ...] = Field(min_length=1)

    def sample(self, rng: random.Random) -> float:
        return self.hours[rng.randrange(len(self.hours))]

    @property
    def mean(self) -> float:
        return sum(self.hours) / len(self.hours)


Distribution = Annotated[
    Fixed | Exponential | Triangular | Uniform | LogNormal | Empirical,
    Field(discriminator="dist"),
]


def default_service(deadline_hours: float) -> Triangular:
    """Staff effort of a step the scenario does not describe, from its deadline.

    A deadline is the most a step may take, queueing and waiting on other people included;
    the effort itself is a small part of it. Default: triangular with low 2 %, mode 5 % and
    high 25 % of the deadline (mean about 10.7 %): a 1-day step takes about 50 minutes of
    one person's time on average, a 10-day technical review about 8.5 hours.
    """
    return Triangular(
        low=0.02 * deadline_hours, mode=0.05 * deadline_hours, high=0.25 * deadline_hours
    )


def default_applicant_time(deadline_hours: float) -> Exponential:
    """Time the applicant takes in a clock-paused step (e.g. paying), from its deadline:
    exponential with a mean of 20 % of the deadline, capped at the deadline (a 10-day
    payment window: 2 days on average)."""
    return Exponential(mean=0.2 * deadline_hours, cap=deadline_hours)
