"""Published fees: fixed amounts, CEL formulas over the application, waivers, rounding.

Pure: the same function prices the public fee simulator, the API's preview and the bill
(SKRD) the workflow issues, so the amount billed is always the published formula's.
Amounts are whole rupiah.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, DecimalException
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loket.expr import compile_expression
from loket.label import Label


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TariffParameter(_Strict):
    """A named number a formula uses, with the regulation that sets it."""

    value: int | float
    unit: str = ""
    source: str = Field(
        min_length=1, description="legal source, e.g. 'Perda Blora 1/2024 lamp. III'"
    )
    description: str = ""


class FeeItem(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    amount: int | None = Field(default=None, ge=0, description="fixed amount in rupiah")
    formula: str | None = Field(default=None, description="CEL over form fields and parameters")
    applies_when: str | None = Field(default=None, description="CEL condition; absent: always")
    waived_when: str | None = Field(default=None, description="CEL condition for a waiver")
    waiver_basis: str | None = None
    legal_basis: str = ""
    # the same rules in plain words, as the public reads them (the CEL stays under "rumus")
    formula_label: Label | None = None
    applies_when_label: Label | None = None
    waived_when_label: Label | None = None

    @model_validator(mode="after")
    def _one_way_to_price(self) -> FeeItem:
        if (self.amount is None) == (self.formula is None):
            raise ValueError("give exactly one of 'amount' or 'formula'")
        if self.waived_when is not None and not self.waiver_basis:
            raise ValueError("a waiver needs its 'waiver_basis' (the rule that grants it)")
        return self


class Rounding(_Strict):
    to: int = Field(default=1, ge=1, description="round each line to a multiple of this")
    mode: Literal["half_up", "down", "up"] = "half_up"


class FeeSchedule(_Strict):
    free: bool = False
    free_basis: str | None = Field(default=None, description="the rule that makes it free")
    currency: Literal["IDR"] = "IDR"
    formula_text: str = Field(default="", description="the formula as published to the public")
    parameters: dict[str, TariffParameter] = Field(default_factory=dict)
    items: list[FeeItem] = Field(default_factory=list)
    rounding: Rounding = Rounding()

    @model_validator(mode="after")
    def _free_or_priced(self) -> FeeSchedule:
        if self.free and self.items:
            raise ValueError("a free license has no fee items")
        if self.free and not self.free_basis:
            raise ValueError("a free license names the rule that makes it free in 'free_basis'")
        if not self.free and not self.items:
            raise ValueError("give fee items, or 'free: true' with its 'free_basis'")
        return self

    def parameter_values(self) -> dict[str, float]:
        """Parameters as formulas see them: always double, so ``area * shst`` just works."""
        return {name: float(p.value) for name, p in self.parameters.items()}

    def expressions(self) -> list[tuple[str, str]]:
        """Every CEL source with its path inside the schedule, for validation."""
        found: list[tuple[str, str]] = []
        for i, item in enumerate(self.items):
            for attr in ("formula", "applies_when", "waived_when"):
                source = getattr(item, attr)
                if source is not None:
                    found.append((f"items[{i}].{attr}", source))
        return found


class FeeLine(_Strict):
    id: str
    name: str
    formula: str | None
    amount: int
    waived: bool = False
    waiver_basis: str | None = None
    legal_basis: str = ""


class FeeAssessment(_Strict):
    currency: Literal["IDR"] = "IDR"
    free: bool
    free_basis: str | None = None
    lines: list[FeeLine]
    total: int
    parameters: dict[str, float] = Field(default_factory=dict)


# Amounts are stored in PostgreSQL bigint columns (fee_total): a bill must fit them.
MAX_AMOUNT = 2**63 - 1


class AmountOutOfRange(ValueError):
    """A fee line (or the total) that no bill can carry: beyond bigint, infinite or NaN.

    ``fields`` are the form fields the item's formula reads, so the caller can say which
    input made it so."""

    def __init__(self, item: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(f"the amount of '{item}' is out of range (at most {MAX_AMOUNT})")
        self.item = item
        self.fields = fields


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _fields_of(source: str | None, data: Mapping[str, object]) -> tuple[str, ...]:
    return tuple(sorted(set(_IDENTIFIER.findall(source or "")) & set(data)))


_ROUNDING = {"half_up": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}


# A double carries 15 significant decimal digits exactly; beyond them is binary noise
# (100 x 1.15 gives 114.99999999999999, which rounded down would bill 114, not 115).
_SIGNIFICANT = Context(prec=15)


def round_rupiah(value: float, rounding: Rounding) -> int:
    """Raises ``OverflowError`` for an amount no bill can carry (inf, NaN, beyond bigint)."""
    # Decimal from repr cut to 15 digits: the decimal result a person gets by hand.
    quantum = Decimal(rounding.to)
    try:
        scaled = (_SIGNIFICANT.create_decimal(repr(value)) / quantum).quantize(
            Decimal(1), rounding=_ROUNDING[rounding.mode]
        )
        amount = int(scaled * quantum)
    except (DecimalException, ValueError, OverflowError):
        raise OverflowError(f"amount {value!r} cannot be rounded to rupiah") from None
    if abs(amount) > MAX_AMOUNT:
        raise OverflowError(f"amount {amount} is beyond {MAX_AMOUNT}")
    return amount


def assess(schedule: FeeSchedule, data: Mapping[str, object]) -> FeeAssessment:
    """Price an application. ``data`` is the normalized form (see ``loket.route.form``)."""
    params = schedule.parameter_values()
    if schedule.free:
        return FeeAssessment(free=True, free_basis=schedule.free_basis, lines=[], total=0)
    env: dict[str, object] = {**params, **data}
    lines: list[FeeLine] = []
    for item in schedule.items:
        if item.applies_when and not compile_expression(item.applies_when).evaluate_bool(env):
            continue
        if item.formula is not None:
            try:
                amount = round_rupiah(
                    compile_expression(item.formula).evaluate_number(env), schedule.rounding
                )
            except OverflowError:
                raise AmountOutOfRange(item.id, _fields_of(item.formula, data)) from None
        else:
            amount = item.amount or 0
        waived = bool(item.waived_when) and compile_expression(
            item.waived_when or ""
        ).evaluate_bool(env)
        lines.append(
            FeeLine(
                id=item.id,
                name=item.name,
                formula=item.formula,
                amount=0 if waived else max(amount, 0),
                waived=waived,
                waiver_basis=item.waiver_basis if waived else None,
                legal_basis=item.legal_basis,
            )
        )
    total = sum(line.amount for line in lines)
    if total > MAX_AMOUNT:
        named = tuple(sorted({f for i in schedule.items for f in _fields_of(i.formula, data)}))
        raise AmountOutOfRange("total", named)
    return FeeAssessment(free=False, lines=lines, total=total, parameters=params)
