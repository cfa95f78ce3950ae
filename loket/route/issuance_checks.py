"""Checks of a definition's issued permit: at most one issuing step, which approves into
'finish', and a permit spec whose number format and form fields are usable."""

from __future__ import annotations

from collections.abc import Iterable

from loket.route.issuance import KNOWN_TEMPLATES, format_problems
from loket.route.model import FieldType, PermitType, Target, TaskStep

Problem = tuple[str, str]


def check_issuance(permit: PermitType) -> Iterable[Problem]:
    issuing = [i for i, s in enumerate(permit.steps) if isinstance(s, TaskStep) and s.issues_permit]
    for i in issuing[1:]:
        yield f"steps[{i}].issues_permit", "only one step issues the permit"
    for i in issuing[:1]:
        step = permit.steps[i]
        assert isinstance(step, TaskStep)
        if step.outcomes.get("approve") != Target.FINISH:
            yield (
                f"steps[{i}].outcomes",
                "the step that issues the permit needs 'approve: finish'",
            )
    spec = permit.issued_permit
    if issuing and spec is None:
        yield "issued_permit", "a step issues the permit: describe it under 'issued_permit'"
    if spec is None:
        return
    if not issuing:
        yield "issued_permit", "no step has 'issues_permit: true' to issue this permit"
    if spec.template not in KNOWN_TEMPLATES:
        known = ", ".join(sorted(KNOWN_TEMPLATES))
        yield "issued_permit.template", f"unknown template '{spec.template}' (known: {known})"
    for problem in format_problems(spec.number.format):
        yield "issued_permit.number.format", problem
    fields = [("holder_name", spec.holder_name)]
    if spec.holder_id is not None:
        fields.append(("holder_id", spec.holder_id))
    fields += [(f"object_fields[{n}]", name) for n, name in enumerate(spec.object_fields)]
    for where, name in fields:
        field = permit.form.get(name)
        if field is None:
            known = ", ".join(sorted(permit.form))
            yield f"issued_permit.{where}", f"names unknown field '{name}' (known: {known})"
        elif where.startswith("holder") and (
            field.type is not FieldType.STRING or not field.required
        ):
            yield f"issued_permit.{where}", f"field '{name}' must be a required string"
