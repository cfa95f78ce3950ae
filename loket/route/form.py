"""The application form: validating a submission and the values CEL expressions see.

A submission is checked against the permit type's declared fields by a pydantic model
built from them, so a bad field is reported by name. Optional fields left out take the
zero value of their type, so conditions never meet a missing variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from loket.route import formats
from loket.route.model import FieldType, FormField, PermitType
from loket.text import Text

FormValue = str | int | float | bool

_ZERO: dict[FieldType, FormValue] = {
    FieldType.STRING: "",
    FieldType.INTEGER: 0,
    FieldType.NUMBER: 0.0,
    FieldType.BOOLEAN: False,
    FieldType.DATE: "",
    FieldType.CHOICE: "",
}


class FormError(ValueError):
    """A submission that does not fit the form; ``errors`` name each field
    (``{"field", "code", "message"}``; ``code`` as in the API's field errors)."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def _annotation(spec: FormField) -> Any:
    if spec.type is FieldType.CHOICE:
        return Literal[tuple(spec.choices or ())]
    return {
        FieldType.STRING: Text,  # no NUL or control characters: it must fit a jsonb column
        FieldType.INTEGER: int,
        FieldType.NUMBER: float,
        FieldType.BOOLEAN: bool,
        FieldType.DATE: date,
    }[spec.type]


def _form_model(permit: PermitType) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, spec in permit.form.items():
        constraints: dict[str, Any] = {"title": spec.label}
        if spec.type in (FieldType.BOOLEAN, FieldType.INTEGER, FieldType.NUMBER):
            # No silent "yes"/1 -> True, True -> 1 or "3" -> 3 (an int is still a number).
            constraints["strict"] = True
        if spec.type is FieldType.NUMBER:
            constraints["allow_inf_nan"] = False  # NaN would make every fee NaN
        if spec.minimum is not None and spec.type in (FieldType.INTEGER, FieldType.NUMBER):
            constraints["ge"] = spec.minimum
        if spec.maximum is not None and spec.type in (FieldType.INTEGER, FieldType.NUMBER):
            constraints["le"] = spec.maximum
        if spec.type is FieldType.STRING:
            constraints["max_length"] = spec.max_length or 2000
            if spec.required:
                constraints["min_length"] = 1
        annotation = _annotation(spec)
        if spec.format is not None:
            annotation = Annotated[annotation, AfterValidator(formats.check(spec.format))]
        if spec.required:
            fields[name] = (annotation, Field(**constraints))
        else:
            fields[name] = (annotation | None, Field(default=None, **constraints))
    # Lax model (dates arrive as ISO strings), strict fields above; unknown fields refused.
    config = ConfigDict(extra="forbid", strict=False, str_strip_whitespace=True)
    return create_model(f"{permit.id}Form", __config__=config, **fields)


_CODES = {
    "missing": "missing",
    "string_unicode": "invalid_text",
    "extra_forbidden": "unknown_field",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "finite_number": "out_of_range",
    "literal_error": "not_a_choice",
}


def _error_code(kind: str, msg: str) -> str:
    if kind == "value_error" and "control character" in msg:
        return "invalid_text"
    return _CODES.get(kind, "invalid")


def normalize(permit: PermitType, submitted: dict[str, Any]) -> dict[str, FormValue]:
    """Validate ``submitted`` and return the values with their declared types."""
    try:
        parsed = _form_model(permit).model_validate(submitted)
    except ValidationError as exc:
        raise FormError(
            [
                {
                    "field": ".".join(str(p) for p in err["loc"]) or "form",
                    "code": _error_code(err["type"], err["msg"]),
                    "message": err["msg"],
                }
                for err in exc.errors()
            ]
        ) from None
    values: dict[str, FormValue] = {}
    for name, spec in permit.form.items():
        value = getattr(parsed, name)
        if value is None:
            value = _ZERO[spec.type]
        elif isinstance(value, date):
            value = value.isoformat()
        elif spec.type is FieldType.NUMBER:
            value = float(value)
        values[name] = value
    return values


def with_defaults(permit: PermitType, data: Mapping[str, object]) -> dict[str, object]:
    """``data`` with every declared field present: an optional field left out reads as its
    zero value, as ``normalize`` stores it (conditions never meet an undefined name)."""
    return {**{name: _ZERO[spec.type] for name, spec in permit.form.items()}, **data}


def merge_corrections(
    permit: PermitType, current: dict[str, Any], corrections: dict[str, Any]
) -> dict[str, FormValue]:
    """The stored form with ``corrections`` applied, validated as a whole submission.

    Optional fields stored with their zero value count as left out, as when submitted.
    """
    base = {
        name: value
        for name, value in current.items()
        if name in permit.form
        and (permit.form[name].required or value != _ZERO[permit.form[name].type])
    }
    return normalize(permit, {**base, **corrections})


def sample_environments(permit: PermitType) -> list[dict[str, object]]:
    """Two typed sample applications (booleans true, then false) for checking expressions."""
    envs: list[dict[str, object]] = []
    for flag in (True, False):
        env: dict[str, object] = dict(permit.fees.parameter_values())
        for name, spec in permit.form.items():
            sample: FormValue
            if spec.type is FieldType.BOOLEAN:
                sample = flag
            elif spec.type is FieldType.CHOICE:
                sample = (spec.choices or [""])[0 if flag else -1]
            elif spec.type is FieldType.INTEGER:
                sample = int(spec.minimum or 1)
            elif spec.type is FieldType.NUMBER:
                sample = float(spec.minimum or 1.5)
            elif spec.type is FieldType.DATE:
                sample = "2026-01-02"
            else:
                sample = "x"
            env[name] = sample
        envs.append(env)
    return envs
