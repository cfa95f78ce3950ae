"""Every rule the public reads needs words: a CEL condition, a fee formula, a service-time
variant and a choice value are shown by their label, the expression only under "rumus".

A definition that publishes an expression without its label is not valid: the citizen
would read ``!is_mbr`` or a ternary. Problems are ``(path, message)`` pairs like the rest
of :mod:`loket.route.validate`; the loader adds the file name.
"""

from __future__ import annotations

from collections.abc import Iterable

from loket.label import Label
from loket.route.model import FieldType, PermitType, TaskStep

Problem = tuple[str, str]


def _missing(path: str, what: str, key: str) -> Problem:
    return path, f"the public reads this {what}: give '{key}' (its meaning in plain words)"


def check_labels(permit: PermitType) -> Iterable[Problem]:
    for i, step in enumerate(permit.steps):
        if isinstance(step, TaskStep) and step.when is not None and step.when_label is None:
            yield _missing(f"steps[{i}].when_label", "condition", "when_label")
    for i, doc in enumerate(permit.documents):
        if doc.required_when is not None and doc.required_when_label is None:
            yield _missing(
                f"documents[{i}].required_when_label", "condition", "required_when_label"
            )
    for i, variant in enumerate(permit.service_time.variants):
        if not variant.label.strip():
            yield f"service_time.variants[{i}].label", "a service-time variant needs a label"
    for i, item in enumerate(permit.fees.items):
        pairs: list[tuple[str | None, Label | None, str, str]] = [
            (item.formula, item.formula_label, "formula_label", "formula"),
            (item.applies_when, item.applies_when_label, "applies_when_label", "condition"),
            (item.waived_when, item.waived_when_label, "waived_when_label", "condition"),
        ]
        for source, label, key, what in pairs:
            if source is not None and label is None:
                yield _missing(f"fees.items[{i}].{key}", what, key)
    for name, spec in permit.form.items():
        if spec.type is not FieldType.CHOICE:
            continue
        given = spec.choice_labels or {}
        missing = [c for c in spec.choices or [] if c not in given]
        extra = sorted(set(given) - set(spec.choices or []))
        if missing:
            yield (
                f"form.{name}.choice_labels",
                "every choice needs the name people read; missing: " + ", ".join(missing),
            )
        if extra:
            yield f"form.{name}.choice_labels", "labels for no choice: " + ", ".join(extra)
