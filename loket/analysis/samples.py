"""Sample applications that exercise every condition of a route.

A route's paths differ only where a ``when`` (of a step or of a service-time variant) is
true for some applications and false for others. Those expressions read form fields, so we
build, for each field they read, a few values that fall on both sides of every literal the
expressions compare it with, and take the cartesian product. Running each sample through
the routing core then yields every distinct path (see :mod:`loket.analysis.walk`).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Sequence

from loket.expr import compile_expression
from loket.route.form import FormValue, sample_environments
from loket.route.model import FieldType, FormField, PermitType, TaskStep

log = logging.getLogger(__name__)

# A product larger than this is cut: past a few hundred samples a route author cannot read
# the variants anyway, and each sample costs one walk of the route.
MAX_SAMPLES = 512

_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)")
_STRING = re.compile(r"\"([^\"\\]*)\"|'([^'\\]*)'")


def conditions(permit: PermitType) -> list[str]:
    """Every condition source of the route, in file order, without repeats."""
    found: list[str] = []
    for step in permit.steps:
        if isinstance(step, TaskStep) and step.when is not None and step.when not in found:
            found.append(step.when)
    for variant in permit.service_time.variants:
        if variant.when not in found:
            found.append(variant.when)
    return found


def _candidates(spec: FormField, sources: Iterable[str]) -> list[FormValue]:
    text = " ".join(sources)
    if spec.type is FieldType.BOOLEAN:
        return [False, True]
    if spec.type is FieldType.CHOICE:
        return list(spec.choices or [])
    if spec.type in (FieldType.INTEGER, FieldType.NUMBER):
        low = spec.minimum if spec.minimum is not None else 0.0
        values = {low}
        for literal in _NUMBER.findall(text):
            number = float(literal)
            # Both sides of every threshold: x > 500 differs at 500 and just above it.
            values |= {number, number + 1}
        in_range = sorted(
            v for v in values if v >= low and (spec.maximum is None or v <= spec.maximum)
        )
        if spec.type is FieldType.INTEGER:
            return list(dict.fromkeys(int(v) for v in in_range))
        return [float(v) for v in in_range]
    if spec.type is FieldType.STRING:
        literals = [a or b for a, b in _STRING.findall(text)]
        return list(dict.fromkeys(["x", *literals]))
    return []


def sample_applications(permits: Sequence[PermitType]) -> list[dict[str, object]]:
    """Typed sample applications covering every condition of ``permits`` (one or more
    versions of a permit type: comparing them needs the same samples)."""
    if not permits:
        return []
    base: dict[str, object] = {}
    fields: dict[str, FormField] = {}
    sources: list[str] = []
    for permit in reversed(permits):  # the first permit's defaults win
        base.update(sample_environments(permit)[0])
        fields.update(permit.form)
    for permit in permits:
        sources += [s for s in conditions(permit) if s not in sources]
    read: list[str] = []
    for source in sources:
        for name in sorted(compile_expression(source).variables):
            if name in fields and name not in read:
                read.append(name)
    axes: list[list[FormValue]] = []
    for name in read:
        related = [s for s in sources if name in compile_expression(s).variables]
        axes.append(_candidates(fields[name], related) or [base[name]])  # type: ignore[list-item]
    samples: list[dict[str, object]] = []
    for combo in itertools.product(*axes):
        if len(samples) >= MAX_SAMPLES:
            log.warning("more than %d condition combinations: analysing the first", MAX_SAMPLES)
            break
        samples.append({**base, **dict(zip(read, combo, strict=True))})
    return samples or [base]


def condition_fields(permits: Sequence[PermitType]) -> list[str]:
    """Form fields that some condition reads (what tells the path variants apart)."""
    names: list[str] = []
    for permit in permits:
        for source in conditions(permit):
            for name in sorted(compile_expression(source).variables):
                if name in permit.form and name not in names:
                    names.append(name)
    return names
