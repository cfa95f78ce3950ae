"""What a route asks of applicants and agencies: visits, hand-offs, critical path, and
where it could be shorter (steps that could merge or run in parallel).

Every number is computed per *path variant*: the distinct paths that sample applications
take through the route (:mod:`.samples` builds them from the route's conditions; :mod:`.walk`
runs each through the routing core). See ``docs/analysis.md`` for how to read the output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from loket.analysis.policies import StepPolicy, step_policies
from loket.analysis.samples import condition_fields, conditions, sample_applications
from loket.analysis.walk import HOURS_PER_DAY, Walk, duration_days, forward_outcome, walk
from loket.expr import compile_expression
from loket.route.graph import RouteGraph
from loket.route.model import AgencyCatalog, Counter, PermitType, Target, TaskStep
from loket.route.standard import service_duration
from loket.route.stepper import Stepper


@dataclass(frozen=True)
class PathVariant:
    label: str  # the conditions that hold on this path ("-" when none)
    sample: dict[str, object]  # values of the fields conditions read, for one application
    service_label: str
    service_days: float
    steps: list[str]  # in the order they open
    skipped: list[str]
    counters: list[str]  # "agency/counter", distinct, in order of first use
    agencies: list[str]
    visits: list[str]  # steps the applicant attends in person
    handoffs: int  # the file moves to another counter
    agency_handoffs: int  # ... of another agency
    critical_path: list[str]
    critical_days: float  # government working days (clock-paused steps count zero)
    applicant_days: float  # deadlines of clock-paused steps on the critical path
    edges: list[tuple[str, str]]

    @property
    def exceeds(self) -> bool:
        return self.critical_days > self.service_days + 1e-9

    @property
    def signature(self) -> tuple[tuple[str, ...], str]:
        return tuple(self.steps), self.service_label


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "merge" or "parallel"
    first: str
    second: str
    reason: str
    variants: tuple[str, ...]


@dataclass
class CounterUse:
    key: str
    agency: str
    name: str
    public: bool
    steps: list[str] = field(default_factory=list)


@dataclass
class RouteAnalysis:
    permit_key: str
    name: str
    service_time: str
    steps: int
    agencies: list[str]
    counters: list[CounterUse]
    variants: list[PathVariant]
    suggestions: list[Suggestion]
    warnings: list[str]
    policies: list[StepPolicy] = field(default_factory=list)  # deemed approval, on_deadline

    @property
    def flagged(self) -> list[PathVariant]:
        """Variants whose critical path is longer than the service time published for them."""
        return [v for v in self.variants if v.exceeds]

    def suggestions_of(self, kind: str) -> list[Suggestion]:
        return [s for s in self.suggestions if s.kind == kind]


def counter_key(step: TaskStep) -> str:
    return f"{step.agency}/{step.counter}"


def _counter(agencies: AgencyCatalog, step: TaskStep) -> Counter | None:
    for agency in agencies.agencies:
        if agency.id == step.agency:
            return next((c for c in agency.counters if c.id == step.counter), None)
    return None


def agency_short(agencies: AgencyCatalog, agency_id: str) -> str:
    return next((a.short for a in agencies.agencies if a.id == agency_id), agency_id)


# --- the rules for suggestions -----------------------------------------------------------


def merge_reason(first: TaskStep, second: TaskStep) -> str | None:
    """Why ``first`` then ``second`` could be one step, or None when they could not.

    Same agency is the whole test: one office can do both in one sitting and the hand-off
    disappears. A step waiting on the applicant (``clock: paused``, e.g. payment) never
    merges with agency work, since that would stop the agency's clock for the merged step.
    """
    if first.agency != second.agency:
        return None
    if first.clock == "paused" or second.clock == "paused":
        return None
    if first.counter == second.counter:
        return "same counter: decide both in one sitting"
    return "same agency: one officer or one desk could do both, one hand-off fewer"


def parallel_reason(graph: RouteGraph, first: TaskStep, second: TaskStep) -> str | None:
    """Why ``second`` need not wait for ``first``, or None when it must.

    Loket does not declare data flow between steps, so "``second`` needs ``first``" is read
    off what a step can produce: its decision, a bill (``assesses_fees``), a payment (a
    clock-paused step). ``second`` needs ``first`` when any of these holds:

    - same agency: then merging is the better change (see :func:`merge_reason`);
    - ``first`` issues the bill, or is the applicant's payment: whatever follows acts on it;
    - ``second`` issues the product (its forward outcome finishes the permit): the product
      rests on every decision before it;
    - ``first``'s decision steers the route (an outcome other than the forward one leads to
      a step, not just back to the applicant or to rejection): ``second`` exists only on one
      of its branches;
    - return dependency: an outcome of ``second`` sends the file back to ``first``, so
      ``second``'s rework passes through ``first``.

    Otherwise ``first`` only gates ``second`` (approve lets it go on, reject ends the
    permit); under an AND-join, a rejection in any branch still ends the permit at once.
    Form fields in ``when`` do not count: the applicant supplies them before the first step.
    """
    if first.agency == second.agency:
        return None
    if first.assesses_fees or first.clock == "paused" or second.clock == "paused":
        return None
    forward = forward_outcome(second)
    if forward is not None and second.outcomes[forward] == Target.FINISH:
        return None
    first_forward = forward_outcome(first)
    for name, target in first.outcomes.items():
        if name != first_forward and target not in (Target.APPLICANT, Target.REJECT):
            return None
    if first.id in second.outcomes.values():
        return None
    if graph.scope.get(first.id) != graph.scope.get(second.id):
        return None
    return "different agencies; the first only gates the second (approve/return/reject)"


# --- analysis ----------------------------------------------------------------------------


def _variant(
    permit: PermitType,
    agencies: AgencyCatalog,
    walked: Walk,
    sample: dict[str, object],
    label_sources: Sequence[str],
    fields: Sequence[str],
    hours_per_day: float,
) -> PathVariant:
    stepper_graph_tasks = {s.id: s for s in permit.steps if isinstance(s, TaskStep)}
    order = walked.order
    tasks = [stepper_graph_tasks[s] for s in order]
    counters = list(dict.fromkeys(counter_key(t) for t in tasks))
    edges = walked.edges
    handoffs = sum(
        counter_key(stepper_graph_tasks[a]) != counter_key(stepper_graph_tasks[b]) for a, b in edges
    )
    agency_handoffs = sum(
        stepper_graph_tasks[a].agency != stepper_graph_tasks[b].agency for a, b in edges
    )
    duration, service_label = service_duration(permit, sample)
    critical = walked.critical_path()
    true_conditions = [
        s for s in label_sources if compile_expression(s).evaluate_bool(sample) is True
    ]
    return PathVariant(
        label=" & ".join(true_conditions) or "-",
        sample={f: sample[f] for f in fields if f in sample},
        service_label=service_label,
        service_days=duration_days(duration, hours_per_day),
        steps=order,
        skipped=walked.skipped,
        counters=counters,
        agencies=list(dict.fromkeys(t.agency for t in tasks)),
        visits=[t.id for t in tasks if t.applicant_visit],
        handoffs=handoffs,
        agency_handoffs=agency_handoffs,
        critical_path=critical,
        critical_days=walked.length,
        applicant_days=walked.applicant_days(critical),
        edges=edges,
    )


def analyze(
    permit: PermitType,
    agencies: AgencyCatalog,
    *,
    samples: Sequence[dict[str, object]] | None = None,
    label_sources: Sequence[str] | None = None,
    hours_per_day: float = HOURS_PER_DAY,
) -> RouteAnalysis:
    """Analyse ``permit``; ``samples`` default to :func:`sample_applications` of it alone."""
    stepper = Stepper(permit)
    samples = list(samples) if samples is not None else sample_applications([permit])
    sources = list(label_sources) if label_sources is not None else conditions(permit)
    fields = condition_fields([permit])
    variants: dict[tuple[tuple[str, ...], str], PathVariant] = {}
    for sample in samples:
        variant = _variant(
            permit,
            agencies,
            walk(stepper, sample, hours_per_day),
            sample,
            sources,
            fields,
            hours_per_day,
        )
        variants.setdefault(variant.signature, variant)
    found = list(variants.values())

    counters: dict[str, CounterUse] = {}
    warnings: list[str] = []
    for step in stepper.graph.tasks():
        counter = _counter(agencies, step)
        key = counter_key(step)
        use = counters.setdefault(
            key,
            CounterUse(
                key,
                agency_short(agencies, step.agency),
                counter.name if counter else step.counter,
                counter.public if counter else False,
            ),
        )
        use.steps.append(step.id)
        if step.applicant_visit and counter is not None and not counter.public:
            warnings.append(
                f"step '{step.id}': the applicant visits counter {key}, which agencies.yaml "
                "does not mark public"
            )
    reached = {s for v in found for s in v.steps}
    for step in stepper.graph.tasks():
        if step.id not in reached:
            warnings.append(
                f"step '{step.id}' opens on no path where every step approves "
                "(reached only through another outcome, or never)"
            )
    return RouteAnalysis(
        permit_key=permit.key,
        name=permit.name,
        service_time=str(permit.service_time.standard),
        steps=len(permit.steps),
        agencies=list(dict.fromkeys(t.agency for t in stepper.graph.tasks())),
        counters=list(counters.values()),
        variants=found,
        suggestions=_suggestions(stepper.graph, found),
        warnings=warnings,
        policies=step_policies(stepper.graph),
    )


def _suggestions(graph: RouteGraph, variants: Sequence[PathVariant]) -> list[Suggestion]:
    """Merge and parallel candidates on the walked edges of every variant.

    Only an edge that is the second step's sole way in counts: after an AND-join the next
    step needs every branch, so it can neither merge with one branch nor run beside it. An
    edge into a fork counts only if the first step hands the file to no other branch on
    that path (the other branches' steps were skipped).
    """
    found: dict[tuple[str, str, str], tuple[str, list[str]]] = {}
    for variant in variants:
        preds: dict[str, list[str]] = {}
        for a, b in variant.edges:
            preds.setdefault(b, []).append(a)
        succs: dict[str, int] = {}
        for a, _ in variant.edges:
            succs[a] = succs.get(a, 0) + 1
        for b, ins in preds.items():
            if len(ins) != 1:
                continue
            first, second = graph.task(ins[0]), graph.task(b)
            if succs[first.id] != 1 and graph.scope.get(first.id) != graph.scope.get(b):
                continue  # a fork: the second runs beside other branches
            for kind, reason in (
                ("merge", merge_reason(first, second)),
                ("parallel", parallel_reason(graph, first, second)),
            ):
                if reason is not None:
                    entry = found.setdefault((kind, first.id, second.id), (reason, []))
                    entry[1].append(variant.label)
    return [
        Suggestion(kind, a, b, reason, tuple(labels))
        for (kind, a, b), (reason, labels) in found.items()
    ]


# --- comparison --------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedVariant:
    label: str
    sample: dict[str, object]
    left: PathVariant
    right: PathVariant


@dataclass
class Comparison:
    left: RouteAnalysis
    right: RouteAnalysis
    rows: list[ComparedVariant]
    step_changes: list[str]


def compare(left: PermitType, right: PermitType, agencies: AgencyCatalog) -> Comparison:
    """Two versions (or drafts) of a permit type on the same sample applications, so each
    row pairs the path one application takes in each."""
    samples = sample_applications([left, right])
    sources = list(dict.fromkeys([*conditions(left), *conditions(right)]))
    fields = condition_fields([left, right])
    a = analyze(left, agencies, samples=samples, label_sources=sources)
    b = analyze(right, agencies, samples=samples, label_sources=sources)
    left_stepper, right_stepper = Stepper(left), Stepper(right)
    rows: dict[tuple[object, object], ComparedVariant] = {}
    for sample in samples:
        lv = _variant(
            left, agencies, walk(left_stepper, sample), sample, sources, fields, HOURS_PER_DAY
        )
        rv = _variant(
            right, agencies, walk(right_stepper, sample), sample, sources, fields, HOURS_PER_DAY
        )
        key = (lv.signature, rv.signature)
        if key not in rows:
            rows[key] = ComparedVariant(lv.label, lv.sample, lv, rv)
    return Comparison(a, b, list(rows.values()), _step_changes(left, right))


def _step_changes(left: PermitType, right: PermitType) -> list[str]:
    old = {s.id: s for s in left.steps if isinstance(s, TaskStep)}
    new = {s.id: s for s in right.steps if isinstance(s, TaskStep)}
    changes = [f"- {s}: removed ({counter_key(old[s])})" for s in old if s not in new]
    changes += [
        f"+ {s}: added ({counter_key(new[s])}, {new[s].deadline})" for s in new if s not in old
    ]
    for step_id in old.keys() & new.keys():
        a, b = old[step_id], new[step_id]
        diffs = [
            f"{what} {x} -> {y}"
            for what, x, y in (
                ("counter", counter_key(a), counter_key(b)),
                ("deadline", a.deadline, b.deadline),
                ("when", a.when, b.when),
                ("clock", a.clock, b.clock),
                ("visit", a.applicant_visit, b.applicant_visit),
            )
            if x != y
        ]
        if diffs:
            changes.append(f"~ {step_id}: {'; '.join(diffs)}")
    return sorted(changes, key=lambda c: c[2:])
