"""Field-level errors: an ``Invalid`` names every field that is wrong, with a code each.

Shared by the API's request validation and the pages' forms (pydantic's errors), the
permit form (``FormError``) and fee checks (``AmountOutOfRange``), so all look alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loket.fees import AmountOutOfRange
from loket.route.form import FormError
from loket.services.errors import Invalid

# pydantic error types -> the few codes clients need to tell apart
_TYPES = {
    "missing": "missing",
    "string_unicode": "invalid_text",
    "extra_forbidden": "unknown_field",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "too_long": "too_long",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "greater_than": "out_of_range",
    "less_than": "out_of_range",
    "finite_number": "out_of_range",
    "string_pattern_mismatch": "invalid_format",
    "literal_error": "not_a_choice",
    "enum": "not_a_choice",
}


def field_code(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "value_error" and "control character" in str(error.get("msg", "")):
        return "invalid_text"  # loket.text refused it: NUL, a control character, a surrogate
    return _TYPES.get(kind, "invalid")


def form_invalid(exc: FormError) -> Invalid:
    fields = [e["field"] for e in exc.errors]
    code = "invalid_form"
    return Invalid(
        code,
        errors=[
            {"field": e["field"], "code": e.get("code", "invalid"), "message": e["message"]}
            for e in exc.errors
        ],
        fields=fields,
    )


def amount_invalid(exc: AmountOutOfRange) -> Invalid:
    named = list(exc.fields) or [f"fees.{exc.item}"]
    return Invalid(
        "amount_out_of_range",
        errors=[{"field": f, "code": "amount_out_of_range", "message": str(exc)} for f in named],
        item=exc.item,
        fields=named,
    )
