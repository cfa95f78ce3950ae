"""HTML form fields to permit form values.

Browsers send text; the permit form is strict about types (``loket.route.form``). Values
are converted by the field's declared type here, and anything that does not convert is
passed on as the text it was, so ``normalize`` names the field in its error. Blank fields
are left out (an optional field left blank was not given).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loket.route.model import FieldType, PermitType


def _number(text: str) -> float | str:
    try:
        # A comma is the Indonesian decimal separator: 12,5 m² is 12.5.
        return float(text.replace(",", "."))
    except ValueError:
        return text


def _integer(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def coerce_form(permit: PermitType, raw: Mapping[str, str]) -> dict[str, Any]:
    """The form's fields from ``raw`` with their declared types; unknown keys ignored."""
    values: dict[str, Any] = {}
    for name, spec in permit.form.items():
        if spec.type is FieldType.BOOLEAN:
            # An unchecked checkbox is not sent at all.
            values[name] = raw.get(name) in ("on", "true", "1", "yes")
            continue
        text = raw.get(name, "").strip()
        if not text:
            continue
        if spec.type is FieldType.INTEGER:
            values[name] = _integer(text)
        elif spec.type is FieldType.NUMBER:
            values[name] = _number(text)
        else:
            values[name] = text
    return values
