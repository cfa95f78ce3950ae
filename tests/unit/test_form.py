"""The application form (``loket.route.form``): typed values out, and field-by-field errors
(the API turns them into a 422 naming each field) for anything that does not fit."""

from __future__ import annotations

from typing import Any

import pytest

from loket.route.form import FormError, normalize, sample_environments
from loket.route.model import PermitType

PERMIT = PermitType.model_validate(
    {
        "id": "FORM",
        "name": "Form test",
        "version": 1,
        "legal_basis": ["test"],
        "product": "p",
        "complaints": "c",
        "service_time": {"standard": "3d"},
        "form": {
            "name": {"type": "string", "label": "Name", "max_length": 10},
            "count": {"type": "integer", "label": "Count", "minimum": 1, "maximum": 12},
            "area": {"type": "number", "label": "Area", "minimum": 0.5},
            "flag": {"type": "boolean", "label": "Flag"},
            "kind": {"type": "choice", "label": "Kind", "choices": ["a", "b"]},
            "day": {"type": "date", "label": "Day"},
            "note": {"type": "string", "label": "Note", "required": False},
            "extra_count": {"type": "integer", "label": "Extra", "required": False},
            "extra_area": {"type": "number", "label": "Extra area", "required": False},
            "extra_flag": {"type": "boolean", "label": "Extra flag", "required": False},
            "extra_kind": {
                "type": "choice",
                "label": "Extra kind",
                "choices": ["x"],
                "required": False,
            },
            "extra_day": {"type": "date", "label": "Extra day", "required": False},
        },
        "fees": {"free": True, "free_basis": "test"},
        "steps": [
            {
                "id": "only",
                "name": "Only",
                "agency": "a",
                "counter": "c",
                "deadline": "1d",
                "outcomes": {"approve": "finish"},
            }
        ],
    }
)

VALID: dict[str, Any] = {
    "name": "  Siti ",
    "count": 3,
    "area": 2,
    "flag": True,
    "kind": "b",
    "day": "2026-03-16",
}


def field_errors(**changes: Any) -> dict[str, str]:
    submitted = {k: v for k, v in {**VALID, **changes}.items() if v is not ...}
    with pytest.raises(FormError) as caught:
        normalize(PERMIT, submitted)
    return {e["field"]: e["message"] for e in caught.value.errors}


def test_normalize_gives_declared_types() -> None:
    values = normalize(PERMIT, VALID)
    assert values["name"] == "Siti"  # stripped
    assert values["count"] == 3 and type(values["count"]) is int
    assert values["area"] == 2.0 and type(values["area"]) is float  # an int is a number
    assert values["flag"] is True
    assert values["kind"] == "b"
    assert values["day"] == "2026-03-16"  # ISO text: CEL and JSON see the same value


def test_optional_fields_left_out_take_zero_values() -> None:
    values = normalize(PERMIT, VALID)
    assert values["note"] == ""
    assert values["extra_count"] == 0 and type(values["extra_count"]) is int
    assert values["extra_area"] == 0.0 and type(values["extra_area"]) is float
    assert values["extra_flag"] is False
    assert values["extra_kind"] == ""
    assert values["extra_day"] == ""
    assert set(values) == set(PERMIT.form)  # every declared field, always: no missing variable
    # An explicit null is the same as leaving the field out.
    assert normalize(PERMIT, {**VALID, "extra_count": None, "note": None}) == values


def test_given_optional_values_are_kept() -> None:
    values = normalize(
        PERMIT, {**VALID, "extra_count": 2, "extra_day": "2026-01-02", "extra_kind": "x"}
    )
    assert (values["extra_count"], values["extra_day"], values["extra_kind"]) == (
        2,
        "2026-01-02",
        "x",
    )


def test_unknown_field() -> None:
    assert field_errors(colour="red") == {"colour": "Extra inputs are not permitted"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", "3", "valid integer"),
        ("count", 2.5, "valid integer"),
        ("count", True, "valid integer"),
        ("area", "2.5", "valid number"),
        ("area", float("nan"), "finite number"),
        ("flag", "yes", "valid boolean"),
        ("flag", 1, "valid boolean"),
        ("name", 42, "valid string"),
        ("day", "16/03/2026", "valid date"),
    ],
)
def test_wrong_type(field: str, value: object, message: str) -> None:
    errors = field_errors(**{field: value})
    assert list(errors) == [field] and message in errors[field]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", 0, "greater than or equal to 1"),
        ("count", 13, "less than or equal to 12"),
        ("area", 0.25, "greater than or equal to 0.5"),
        ("name", "x" * 11, "at most 10 characters"),
        ("name", "   ", "at least 1 character"),  # required text cannot be blank
    ],
)
def test_out_of_range(field: str, value: object, message: str) -> None:
    assert message in field_errors(**{field: value})[field]


def test_missing_required_fields_are_each_named() -> None:
    errors = field_errors(count=..., kind=...)
    assert errors == {"count": "Field required", "kind": "Field required"}


def test_bad_choice_lists_the_choices() -> None:
    assert field_errors(kind="c") == {"kind": "Input should be 'a' or 'b'"}


def test_every_problem_at_once_and_readable_message() -> None:
    with pytest.raises(FormError) as caught:
        normalize(PERMIT, {**VALID, "count": 99, "flag": "maybe", "colour": "red"})
    assert {e["field"] for e in caught.value.errors} == {"count", "flag", "colour"}
    assert "count: Input should be less than or equal to 12" in str(caught.value)


def test_sample_environments_have_declared_types() -> None:
    true_env, false_env = sample_environments(PERMIT)
    assert true_env["flag"] is True and false_env["flag"] is False
    assert true_env["kind"] == "a" and false_env["kind"] == "b"
    assert type(true_env["count"]) is int and type(true_env["area"]) is float
    # The samples are themselves valid submissions.
    normalize(PERMIT, {k: v for k, v in true_env.items() if k in PERMIT.form})


HOSTILE: list[tuple[str, object, str]] = [
    ("name", "a\x00b", "invalid_text"),
    ("name", "a\x1bb", "invalid_text"),
    ("name", "a\ud800b", "invalid_text"),
    ("name", "x" * 5000, "too_long"),
    ("count", -1, "out_of_range"),
    ("count", 10**30, "out_of_range"),
    ("count", 1e20, "invalid"),
    ("count", float("nan"), "invalid"),
    ("area", float("nan"), "out_of_range"),
    ("area", float("inf"), "out_of_range"),
    ("area", -1e300, "out_of_range"),
    ("flag", "yes\x00", "invalid"),
    ("kind", "a\x00", "not_a_choice"),
    ("day", "2026-02-30", "invalid"),
    ("day", "\x00", "invalid"),
]


@pytest.mark.parametrize(("field", "value", "code"), HOSTILE)
def test_hostile_values_of_every_type_are_named_with_a_code(
    field: str, value: object, code: str
) -> None:
    with pytest.raises(FormError) as caught:
        normalize(PERMIT, {**VALID, field: value})
    assert [(e["field"], e["code"]) for e in caught.value.errors] == [(field, code)]
