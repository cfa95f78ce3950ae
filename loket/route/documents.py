"""Upload slots of an application: which documents it needs and the rules of each.

One slot per document of the permit type that applies to the application's form: always
for an optional document (``required: false``), else when its ``required_when`` holds.
Each slot's rules are the document's own, falling back to the permit's ``document_rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from loket.expr import compile_expression
from loket.route.form import with_defaults
from loket.route.model import DocumentType, PermitType, RequiredDocument

MB = 1024 * 1024

# What each accepted type is called on the wire (the stored file's media type).
MEDIA_TYPES: dict[DocumentType, str] = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
}


@dataclass(frozen=True)
class Slot:
    id: str
    name: str
    required: bool
    accept: tuple[DocumentType, ...]
    max_bytes: int

    @property
    def media_types(self) -> tuple[str, ...]:
        return tuple(MEDIA_TYPES[t] for t in self.accept)


def _applies(doc: RequiredDocument, data: Mapping[str, object]) -> bool:
    if not doc.required or doc.required_when is None:
        return True
    return compile_expression(doc.required_when).evaluate_bool(data)


def slots(permit: PermitType, data: Mapping[str, object]) -> list[Slot]:
    rules = permit.document_rules
    env = with_defaults(permit, data)  # once, not per document
    return [
        Slot(
            id=doc.id,
            name=doc.name,
            required=doc.required,
            accept=tuple(doc.accept or rules.accept),
            max_bytes=(doc.max_size_mb or rules.max_size_mb) * MB,
        )
        for doc in permit.documents
        if _applies(doc, env)
    ]


def slot(permit: PermitType, data: Mapping[str, object], slot_id: str) -> Slot | None:
    return next((s for s in slots(permit, data) if s.id == slot_id), None)
