"""What a permit type promises a given applicant: service time and required documents.

The same functions serve the published service standard, the workflow's overall deadline
and the API's submission checks.
"""

from __future__ import annotations

from collections.abc import Mapping

from loket.calendar import WorkDuration
from loket.expr import compile_expression
from loket.route.model import PermitType, RequiredDocument


def service_duration(permit: PermitType, data: Mapping[str, object]) -> tuple[WorkDuration, str]:
    """The service time that applies to ``data``: the first matching variant, else standard."""
    for variant in permit.service_time.variants:
        if compile_expression(variant.when).evaluate_bool(data):
            return variant.duration, variant.label
    return permit.service_time.standard, "standard"


def required_documents(permit: PermitType, data: Mapping[str, object]) -> list[RequiredDocument]:
    return [
        doc
        for doc in permit.documents
        if doc.required
        and (doc.required_when is None or compile_expression(doc.required_when).evaluate_bool(data))
    ]
