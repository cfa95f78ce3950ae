"""Checks a parsed permit type beyond its shape: references, reachability, exits, CEL.

Returns every problem at once as ``(path, message)`` pairs; the loader adds the file name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from loket.expr import ExpressionError, compile_expression
from loket.route.form import sample_environments
from loket.route.graph import RouteGraph, build_graph, exits_reachable
from loket.route.labels import check_labels
from loket.route.model import (
    RESERVED_TARGETS,
    AgencyCatalog,
    FieldType,
    ParallelStep,
    PermitType,
    Target,
    TaskStep,
)
from loket.route.policy_checks import check_policies

Problem = tuple[str, str]


def check_permit(permit: PermitType, agencies: AgencyCatalog) -> list[Problem]:
    problems: list[Problem] = []
    graph = build_graph(permit)
    problems += _check_ids(permit)
    problems += _check_form_bounds(permit)
    problems += _check_counters(permit, agencies)
    problems += _check_targets(permit, graph)
    problems += _check_structure(permit, graph)
    problems += _check_expressions(permit)
    problems += _check_fees_step(permit)
    problems += check_labels(permit)
    problems += check_policies(permit)
    return problems


def _check_ids(permit: PermitType) -> Iterable[Problem]:
    seen: dict[str, int] = {}
    for i, step in enumerate(permit.steps):
        if step.id in RESERVED_TARGETS:
            yield (
                f"steps[{i}].id",
                f"'{step.id}' is reserved for an outcome target; rename the step",
            )
        if step.id in seen:
            yield (
                f"steps[{i}].id",
                f"duplicate step id '{step.id}' (first at steps[{seen[step.id]}])",
            )
        else:
            seen[step.id] = i


def _check_form_bounds(permit: PermitType) -> Iterable[Problem]:
    """Every number a form accepts ends up in a bill and a database column: it needs both
    bounds, or one submission (1e20 m of fence) can bill more than a bigint holds."""
    for name, spec in permit.form.items():
        if spec.type not in (FieldType.NUMBER, FieldType.INTEGER):
            continue
        for bound in ("minimum", "maximum"):
            if getattr(spec, bound) is None:
                yield (
                    f"form.{name}.{bound}",
                    f"a field of type '{spec.type}' needs a '{bound}'",
                )
        if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
            yield f"form.{name}", f"'minimum' {spec.minimum} is above 'maximum' {spec.maximum}"


def _check_counters(permit: PermitType, agencies: AgencyCatalog) -> Iterable[Problem]:
    by_id = {a.id: a for a in agencies.agencies}
    for i, step in enumerate(permit.steps):
        if not isinstance(step, TaskStep):
            continue
        agency = by_id.get(step.agency)
        if agency is None:
            known = ", ".join(sorted(by_id))
            yield f"steps[{i}].agency", f"unknown agency '{step.agency}' (agencies: {known})"
        elif step.counter not in {c.id for c in agency.counters}:
            known = ", ".join(c.id for c in agency.counters)
            yield (
                f"steps[{i}].counter",
                f"agency '{step.agency}' has no counter '{step.counter}' (its counters: {known})",
            )


def _target_problem(target: str, step_ids: Mapping[str, int]) -> str | None:
    if target in RESERVED_TARGETS or target in step_ids:
        return None
    reserved = ", ".join(t.value for t in Target)
    return f"leads to '{target}', which is neither a step id nor one of: {reserved}"


def _check_targets(permit: PermitType, graph: RouteGraph) -> Iterable[Problem]:
    for i, step in enumerate(permit.steps):
        if isinstance(step, ParallelStep):
            for b, entry in enumerate(step.parallel):
                if entry in RESERVED_TARGETS:
                    yield f"steps[{i}].parallel[{b}]", "a branch starts at a step, not at a target"
                elif (msg := _target_problem(entry, graph.index)) is not None:
                    yield f"steps[{i}].parallel[{b}]", msg
            if step.then == Target.APPLICANT:
                yield f"steps[{i}].then", "'then' cannot return to the applicant"
            elif (msg := _target_problem(step.then, graph.index)) is not None:
                yield f"steps[{i}].then", msg
            continue
        for outcome, target in step.outcomes.items():
            if (msg := _target_problem(target, graph.index)) is not None:
                yield f"steps[{i}].outcomes.{outcome}", msg
        if step.when is not None and "approve" not in step.outcomes:
            yield (
                f"steps[{i}].when",
                "a conditional step needs an 'approve' outcome: a skipped step goes on there",
            )


def _check_structure(permit: PermitType, graph: RouteGraph) -> Iterable[Problem]:
    for conflict in graph.conflicts:
        i = graph.index[conflict.step_id]
        yield (
            f"steps[{i}]",
            f"step '{conflict.step_id}' is reached from two places with different parallel "
            "branches; a branch must stay inside itself until 'join'",
        )
    for i, step in enumerate(permit.steps):
        if graph.index.get(step.id) != i:
            continue  # duplicate; reported already
        scope = graph.scope.get(step.id)
        if scope is None:
            yield (
                f"steps[{i}]",
                f"step '{step.id}' is unreachable from the first step '{graph.first}'",
            )
            continue
        targets = graph.targets(step)
        if not scope and Target.JOIN in targets:
            yield (
                f"steps[{i}]",
                f"step '{step.id}' leads to 'join' but is not inside a parallel branch",
            )
        if scope and Target.FINISH in targets:
            yield (
                f"steps[{i}]",
                f"step '{step.id}' is inside a parallel branch: it leads to 'join', not 'finish'",
            )
    reach = exits_reachable(graph)
    for step_id, exits in reach.items():
        i = graph.index[step_id]
        inside_branch = bool(graph.scope[step_id])
        goal = Target.JOIN if inside_branch else Target.FINISH
        if not exits:
            where = "is in" if _on_cycle(graph, step_id) else "leads only into"
            yield (
                f"steps[{i}]",
                f"step '{step_id}' {where} a loop with no exit: no path from it reaches "
                f"'{goal.value}' or 'reject'",
            )
        elif goal not in exits:
            where = "its branch's 'join'" if inside_branch else "'finish'"
            yield f"steps[{i}]", f"no path from step '{step_id}' reaches {where}"


def _on_cycle(graph: RouteGraph, step_id: str) -> bool:
    """Whether some path from ``step_id`` comes back to it ('applicant' does not count)."""
    seen: set[str] = set()
    stack = [t for t in graph.targets(graph.steps[step_id]) if t in graph.scope]
    while stack:
        current = stack.pop()
        if current == step_id:
            return True
        if current not in seen:
            seen.add(current)
            stack += [t for t in graph.targets(graph.steps[current]) if t in graph.scope]
    return False


def _check_expressions(permit: PermitType) -> Iterable[Problem]:
    fields = set(permit.form)
    params = set(permit.fees.parameters)
    checks: list[tuple[str, str, set[str], type]] = []
    for i, step in enumerate(permit.steps):
        if isinstance(step, TaskStep) and step.when is not None:
            checks.append((f"steps[{i}].when", step.when, fields, bool))
    for i, doc in enumerate(permit.documents):
        if doc.required_when is not None:
            checks.append((f"documents[{i}].required_when", doc.required_when, fields, bool))
    for i, variant in enumerate(permit.service_time.variants):
        checks.append((f"service_time.variants[{i}].when", variant.when, fields, bool))
    for path, source in permit.fees.expressions():
        kind: type = float if path.endswith(".formula") else bool
        checks.append((f"fees.{path}", source, fields | params, kind))
    envs = sample_environments(permit)
    for path, source, allowed, kind in checks:
        try:
            expr = compile_expression(source)
        except ExpressionError as exc:
            yield path, str(exc)
            continue
        unknown = sorted(expr.variables - allowed)
        if unknown:
            names = ", ".join(f"'{u}'" for u in unknown)
            known = ", ".join(sorted(allowed))
            yield path, f"names unknown field {names} (known: {known})"
            continue
        for env in envs:
            try:
                if kind is bool:
                    expr.evaluate_bool(env)
                else:
                    expr.evaluate_number(env)
            except ExpressionError as exc:
                yield path, f"fails on a sample application: {exc}"
                break


def _check_fees_step(permit: PermitType) -> Iterable[Problem]:
    assessing = [
        i for i, s in enumerate(permit.steps) if isinstance(s, TaskStep) and s.assesses_fees
    ]
    if permit.fees.free and assessing:
        yield f"steps[{assessing[0]}].assesses_fees", "this license is free: no step issues a bill"
    if not permit.fees.free and not assessing:
        yield (
            "fees",
            "a paid license needs one step with 'assesses_fees: true' that issues the bill",
        )
    for i in assessing[1:]:
        yield f"steps[{i}].assesses_fees", "only one step issues the bill"
