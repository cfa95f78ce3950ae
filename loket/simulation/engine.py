"""Discrete-event simulation of the mall's counters, routed by the real routing core.

Every application is a :class:`~loket.route.stepper.RouteState` moved only by
``Stepper.start``/``decide``/``resubmit``: the simulator chooses outcomes and times, the
routing core says which steps open, skip, fork, join or get cancelled. A step that opens
joins the FIFO queue of its counter (``agency/counter``, shared by every permit type routed
there); one of the counter's staff serves it for a sampled working time; then an outcome is
drawn and handed to the stepper. A step with ``clock: paused`` (payment) first waits for the
applicant, then queues. A return sends the file to the applicant, whose corrections come
back after a sampled delay and reopen the returned step(s) through ``Stepper.resubmit``.

Time is the working timeline of :mod:`.timeline` (working seconds), so service happens only
during office hours. Service clocks follow the workflow: a permit's clock pauses while a
step waits for the applicant (returned, or clock-paused), and the permit is on time when
its used working time is within the working time its service duration grants.

Determinism: every random draw comes from ``random.Random`` seeded by the scenario seed
and a name: the arrival stream of each permit type, and one generator per application
(its form data, outcomes, service and applicant times). Two scenarios run with the same
seed therefore see the same applicants arriving at the same moments, with the same
luck (common random numbers), which makes their comparison sharper.
"""

from __future__ import annotations

import heapq
import logging
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from loket.analysis.walk import forward_outcome
from loket.calendar import CalendarRangeError
from loket.case.clock import paused_total, toggle_pause, waiting_for_applicant
from loket.route.form import sample_environments
from loket.route.model import FieldType, PermitType, Target, TaskStep
from loket.route.standard import service_duration
from loket.route.stepper import RouteEvent, RouteState, Stepper, Transition
from loket.simulation.distributions import (
    Distribution,
    default_applicant_time,
    default_service,
)
from loket.simulation.scenario import PermitLoad, Scenario
from loket.simulation.timeline import Timeline

log = logging.getLogger(__name__)

HOUR = 3600.0
Progress = Callable[[int, int], None]

_SPENT = random.Random(0)  # stands in for the generator of a finished application
_EMPTY = RouteState()

# Event kinds, in the order they are handled when they fall on the same instant.
_DAY, _DONE, _READY, _RESUBMIT, _ARRIVAL = range(5)


class ScenarioError(ValueError):
    """A scenario that does not fit its permit types (unknown step, field or outcome)."""


# --- per-run structures ------------------------------------------------------------------


@dataclass
class PermitModel:
    """A permit type as the simulator uses it: its stepper and the scenario's numbers."""

    load: PermitLoad
    permit: PermitType
    stepper: Stepper
    mix: list[dict[str, object]]
    weights: list[float]
    service: dict[str, Distribution]
    applicant_time: dict[str, Distribution]
    delay: dict[str, Distribution]

    @property
    def id(self) -> str:
        return self.permit.id


@dataclass(slots=True)
class Application:
    number: int
    model: PermitModel
    data: dict[str, object]
    rng: random.Random
    submitted: float
    budget: float
    state: RouteState = field(default_factory=RouteState)
    tasks: dict[str, Task] = field(default_factory=dict)
    returns: dict[str, int] = field(default_factory=dict)
    resubmit_pending: bool = False
    pauses: tuple[tuple[float, float | None], ...] = ()  # the service clock's pauses
    finished: float | None = None
    result: str | None = None
    trace: AppTrace | None = None  # recorded only when asked (tests, debugging)


@dataclass
class AppTrace:
    """What happened to one application, in order: for checking the routing."""

    permit: str
    data: dict[str, object]
    decisions: list[tuple[str, str]] = field(default_factory=list)  # (step, outcome)
    opened: list[str] = field(default_factory=list)  # steps as they opened or reopened
    resubmissions: list[int] = field(default_factory=list)  # decisions made before each
    result: str | None = None


@dataclass(slots=True)
class Task:
    app: Application
    step: TaskStep
    counter: Counter
    queued_at: float = 0.0
    cancelled: bool = False


@dataclass
class Counter:
    key: str
    staff: int
    days: int
    busy: int = 0
    queue: deque[Task] = field(default_factory=deque)
    waiting: int = 0  # tasks in the queue that are not cancelled
    last: float = 0.0
    day: int = 0
    queue_area: list[float] = field(default_factory=list)
    busy_area: list[float] = field(default_factory=list)
    max_queue: list[int] = field(default_factory=list)
    served: int = 0
    wait_sum: float = 0.0  # working seconds in the queue, tasks counted in the stats
    wait_count: int = 0

    def __post_init__(self) -> None:
        self.queue_area = [0.0] * self.days
        self.busy_area = [0.0] * self.days
        self.max_queue = [0] * self.days


# --- results -----------------------------------------------------------------------------


@dataclass
class CounterStats:
    key: str
    staff: int
    served: int
    mean_wait_h: float
    utilization: float  # over the arrival period
    daily_queue: list[float]  # mean queue length per working day
    daily_max_queue: list[int]
    daily_utilization: list[float]


@dataclass
class PermitStats:
    permit: str
    arrived: int
    approved: int
    rejected: int
    unfinished: int
    on_time: int
    lead_days: list[float]  # finished applications, working days from submission
    returns: int

    @property
    def finished(self) -> int:
        return self.approved + self.rejected

    @property
    def on_time_share(self) -> float:
        return self.on_time / self.finished if self.finished else 0.0


@dataclass
class SimulationResult:
    scenario: str
    seed: int
    days: list[str]  # ISO dates of the working days simulated (period, then drain)
    period_days: int
    permits: list[PermitStats]
    counters: list[CounterStats]
    traces: dict[str, AppTrace] = field(default_factory=dict)

    @property
    def bottleneck(self) -> CounterStats | None:
        """The counter with the highest utilization (ties: the longer mean wait)."""
        if not self.counters:
            return None
        return max(self.counters, key=lambda c: (round(c.utilization, 6), c.mean_wait_h))

    @property
    def lead_days(self) -> list[float]:
        return sorted(d for p in self.permits for d in p.lead_days)

    def totals(self) -> PermitStats:
        return PermitStats(
            "all",
            sum(p.arrived for p in self.permits),
            sum(p.approved for p in self.permits),
            sum(p.rejected for p in self.permits),
            sum(p.unfinished for p in self.permits),
            sum(p.on_time for p in self.permits),
            self.lead_days,
            sum(p.returns for p in self.permits),
        )


# --- building the models -----------------------------------------------------------------


def _typed(permit: PermitType, data: Mapping[str, object], where: str) -> dict[str, object]:
    """Form values with their declared types: CEL does not mix int and double."""
    out: dict[str, object] = {}
    for name, value in data.items():
        spec = permit.form.get(name)
        if spec is None:
            raise ScenarioError(f"{where}: '{name}' is not a field of {permit.key}'s form")
        if spec.type is FieldType.NUMBER and isinstance(value, int | float):
            out[name] = float(value)
        elif spec.type is FieldType.INTEGER and isinstance(value, float) and value.is_integer():
            out[name] = int(value)
        else:
            out[name] = value
    return out


def _hours(duration_days: int | None, duration_hours: int | None) -> float:
    return float(duration_days) * 8.0 if duration_days is not None else float(duration_hours or 0)


def build_model(
    load: PermitLoad,
    permit: PermitType,
    overrides: Mapping[tuple[str, str], Distribution] | None = None,
) -> PermitModel:
    """Check ``load`` against ``permit`` and fill in the defaults of every step."""
    stepper = Stepper(permit)
    tasks = {t.id: t for t in stepper.graph.tasks()}
    for step_id, step_config in load.steps.items():
        if step_id not in tasks:
            raise ScenarioError(f"{load.source}: steps.{step_id}: not a task step of {permit.key}")
        for outcome in step_config.outcomes or {}:
            if outcome not in tasks[step_id].outcomes:
                raise ScenarioError(
                    f"{load.source}: steps.{step_id}.outcomes: '{outcome}' is not an outcome"
                )
    base = sample_environments(permit)[0]
    mix = [
        {**base, **_typed(permit, m.data, f"{load.source}: applications[{i}]")}
        for i, m in enumerate(load.applications)
    ]
    service: dict[str, Distribution] = {}
    applicant: dict[str, Distribution] = {}
    for step_id, task in tasks.items():
        config = load.steps.get(step_id)
        hours = _hours(task.deadline.working_days, task.deadline.working_hours)
        fitted = (overrides or {}).get((permit.id, step_id))
        # Asking for fitted times (--fit-from-db) means: use them where there are enough.
        service[step_id] = (
            fitted
            or (config.service if config and config.service else None)
            or default_service(hours)
        )
        applicant[step_id] = (
            config.applicant_time if config and config.applicant_time else None
        ) or default_applicant_time(hours)
    delay = {s: c.delay for s, c in load.steps.items() if c.delay is not None}
    return PermitModel(
        load, permit, stepper, mix, [m.weight for m in load.applications], service, applicant, delay
    )


# --- the engine --------------------------------------------------------------------------


class Simulation:
    def __init__(
        self,
        scenario: Scenario,
        models: Sequence[PermitModel],
        timeline: Timeline,
        *,
        seed: int | None = None,
        record_traces: bool = False,
    ) -> None:
        self.scenario = scenario
        self.models = list(models)
        self.timeline = timeline
        self.seed = scenario.seed if seed is None else seed
        self.record_traces = record_traces
        self.period = min(scenario.working_days, timeline.days)
        self.warmup_end = timeline.starts[min(scenario.warmup_working_days, timeline.days - 1)]
        self.period_end = timeline.starts[self.period - 1] + timeline.lengths[self.period - 1]
        self.counters: dict[str, Counter] = {}
        self.applications: list[Application] = []
        self._heap: list[tuple[float, int, int, object]] = []
        self._seq = 0
        self._arrival_rngs = {
            m.id: random.Random(f"{self.seed}/arrivals/{m.id}") for m in self.models
        }
        self._numbers: dict[str, int] = {m.id: 0 for m in self.models}

    # -- plumbing -------------------------------------------------------------------------

    def _push(self, at: float, kind: int, item: object) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, kind, self._seq, item))

    def counter(self, key: str) -> Counter:
        found = self.counters.get(key)
        if found is None:
            staff = self.scenario.staff.get(key, self.scenario.default_staff)
            found = Counter(key, staff, self.timeline.days)
            self.counters[key] = found
        return found

    def _account(self, counter: Counter, now: float) -> None:
        """Add the queue length and busy staff since the last change to each day's totals."""
        starts = self.timeline.starts
        t = counter.last
        while t < now:
            k = counter.day
            day_end = starts[k + 1] if k + 1 < len(starts) else self.timeline.end
            until = min(now, day_end)
            span = until - t
            counter.queue_area[k] += counter.waiting * span
            counter.busy_area[k] += counter.busy * span
            t = until
            if until >= day_end and k + 1 < len(starts):
                counter.day = k + 1
            elif until >= day_end:
                break
        counter.last = max(counter.last, now)

    # -- run ------------------------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> SimulationResult:
        for k in range(self.timeline.days):
            self._push(self.timeline.starts[k], _DAY, k)
        while self._heap:
            now, kind, _, item = heapq.heappop(self._heap)
            if kind == _DAY:
                assert isinstance(item, int)
                if item < self.period:
                    self._arrivals(item)
                if progress is not None:
                    progress(item + 1, self.timeline.days)
            elif kind == _ARRIVAL:
                assert isinstance(item, PermitModel)
                self._arrive(item, now)
            elif kind == _DONE:
                assert isinstance(item, Task)
                self._done(item, now)
            elif kind == _READY:
                assert isinstance(item, Task)
                if not item.cancelled:
                    self._enqueue(item, now)
            elif kind == _RESUBMIT:
                assert isinstance(item, Application)
                self._resubmit(item, now)
        end = self.timeline.end
        for counter in self.counters.values():
            self._account(counter, end)
        return self._result()

    def _arrivals(self, day: int) -> None:
        """Poisson arrivals: exponential gaps at the day's rate, restarted each day, so the
        count per working day is Poisson(arrivals_per_day) whatever the day's length."""
        start, length = self.timeline.starts[day], self.timeline.lengths[day]
        for model in self.models:
            rate = model.load.arrivals_per_day / length
            if rate <= 0:
                continue
            rng = self._arrival_rngs[model.id]
            t = start + rng.expovariate(rate)
            while t < start + length:
                self._push(t, _ARRIVAL, model)
                t += rng.expovariate(rate)

    def _arrive(self, model: PermitModel, now: float) -> None:
        number = self._numbers[model.id] = self._numbers[model.id] + 1
        rng = random.Random(f"{self.seed}/{model.id}/{number}")
        data = rng.choices(model.mix, model.weights)[0] if len(model.mix) > 1 else model.mix[0]
        app = Application(
            number,
            model,
            data,
            rng,
            submitted=now,
            budget=self._budget(model, data, now),
            trace=AppTrace(model.permit.key, data) if self.record_traces else None,
        )
        self.applications.append(app)
        self._apply(app, model.stepper.start(data), now)

    def _budget(self, model: PermitModel, data: dict[str, object], now: float) -> float:
        duration, _ = service_duration(model.permit, data)
        try:
            return self.timeline.budget(now, duration)
        except CalendarRangeError:
            # Submitted so late that the deadline is past the calendar's last year: count the
            # nominal working time (only the drain's last days can get here).
            return _hours(duration.working_days, duration.working_hours) * HOUR

    def _apply(self, app: Application, transition: Transition, now: float) -> None:
        app.state = transition.state
        event: RouteEvent
        for event in transition.events:
            kind = event.kind
            if kind == "step_opened":
                step = app.model.stepper.graph.task(event.step_id or "")
                if app.trace is not None:
                    app.trace.opened.append(step.id)
                task = Task(app, step, self.counter(f"{step.agency}/{step.counter}"))
                app.tasks[step.id] = task
                wait = 0.0
                if step.clock == "paused":
                    wait = app.model.applicant_time[step.id].sample(app.rng) * HOUR
                delay = app.model.delay.get(step.id)
                if delay is not None:
                    wait += delay.sample(app.rng) * HOUR
                if wait > 0:
                    self._push(now + wait, _READY, task)
                else:
                    self._enqueue(task, now)
            elif kind == "step_cancelled":
                cancelled = app.tasks.pop(event.step_id or "", None)
                if cancelled is not None:
                    self._cancel(cancelled, now)
            elif kind == "permit_finished":
                app.finished = now
                app.result = event.result
                # A Mersenne Twister holds ~5 KB of state; a finished file draws nothing
                # more, so a year of applications would otherwise keep ~250 MB alive.
                app.rng = _SPENT
                app.state = _EMPTY
                if app.trace is not None:
                    app.trace.result = event.result
        self._service_clock(app, now)

    def _service_clock(self, app: Application, now: float) -> None:
        """Pause the permit's clock while a step waits on the applicant: the case core's
        rule (loket.case.clock), on the working timeline."""
        waiting = app.finished is None and waiting_for_applicant(app.state, app.model.stepper.graph)
        app.pauses, _ = toggle_pause(app.pauses, waiting, now)

    def _enqueue(self, task: Task, now: float) -> None:
        counter = task.counter
        self._account(counter, now)
        task.queued_at = now
        if counter.busy < counter.staff:
            self._start(task, now)
        else:
            counter.queue.append(task)
            counter.waiting += 1
            day = counter.day
            if counter.waiting > counter.max_queue[day]:
                counter.max_queue[day] = counter.waiting

    def _cancel(self, task: Task, now: float) -> None:
        if task.cancelled:
            return
        task.cancelled = True
        if task in task.counter.queue:
            self._account(task.counter, now)
            task.counter.queue.remove(task)
            task.counter.waiting -= 1

    def _start(self, task: Task, now: float) -> None:
        counter = task.counter
        counter.busy += 1
        if task.app.submitted >= self.warmup_end:
            counter.wait_sum += now - task.queued_at
            counter.wait_count += 1
        service = task.app.model.service[task.step.id].sample(task.app.rng) * HOUR
        self._push(now + service, _DONE, task)

    def _done(self, task: Task, now: float) -> None:
        counter = task.counter
        self._account(counter, now)
        counter.busy -= 1
        counter.served += 1
        while counter.queue:
            nxt = counter.queue.popleft()
            counter.waiting -= 1
            if not nxt.cancelled:
                self._start(nxt, now)
                break
        if task.cancelled:
            return  # another branch rejected the permit while this step was in service
        app = task.app
        app.tasks.pop(task.step.id, None)
        outcome = self._outcome(app, task.step)
        if app.trace is not None:
            app.trace.decisions.append((task.step.id, outcome))
        transition = app.model.stepper.decide(app.state, app.data, task.step.id, outcome)
        if task.step.outcomes[outcome] == Target.APPLICANT:
            app.returns[task.step.id] = app.returns.get(task.step.id, 0) + 1
            app.tasks[task.step.id] = task  # parked with the applicant; cancellable
            if not app.resubmit_pending:
                app.resubmit_pending = True
                delay = app.model.load.applicant_delay.sample(app.rng) * HOUR
                self._push(now + delay, _RESUBMIT, app)
        self._apply(app, transition, now)

    def _outcome(self, app: Application, step: TaskStep) -> str:
        load = app.model.load
        config = load.steps.get(step.id)
        draw = app.rng.random()  # always one draw: keeps the application's stream aligned
        if config is not None and config.outcomes:
            total = sum(config.outcomes.values())
            acc = 0.0
            for name, weight in config.outcomes.items():
                acc += weight / total
                if draw < acc:
                    return name
            return next(reversed(config.outcomes))
        ret = next((o for o, t in step.outcomes.items() if t == Target.APPLICANT), None)
        rej = next((o for o, t in step.outcomes.items() if t == Target.REJECT), None)
        ret_share = config.return_share if config and config.return_share is not None else None
        rej_share = config.reject_share if config and config.reject_share is not None else None
        p_ret = load.return_share if ret_share is None else ret_share
        p_rej = load.reject_share if rej_share is None else rej_share
        if ret is not None and app.returns.get(step.id, 0) < load.max_returns and draw < p_ret:
            return ret
        if rej is not None and p_ret <= draw < p_ret + p_rej:
            return rej
        forward = forward_outcome(step)
        if forward is None:
            raise ScenarioError(f"{app.model.permit.key}: step '{step.id}' cannot move on")
        return forward

    def _resubmit(self, app: Application, now: float) -> None:
        app.resubmit_pending = False
        if app.finished is not None:
            return
        transition = app.model.stepper.resubmit(app.state)
        app.state = transition.state
        if app.trace is not None:
            app.trace.resubmissions.append(len(app.trace.decisions))
        for event in transition.events:
            if event.kind == "step_resumed":
                if app.trace is not None:
                    app.trace.opened.append(event.step_id or "")
                task = app.tasks.get(event.step_id or "")
                if task is not None:
                    self._enqueue(task, now)
        self._service_clock(app, now)

    # -- results --------------------------------------------------------------------------

    def _result(self) -> SimulationResult:
        timeline = self.timeline
        period_time = self.period_end - self.warmup_end
        counters: list[CounterStats] = []
        first = self.scenario.warmup_working_days
        for counter in sorted(self.counters.values(), key=lambda c: c.key):
            busy = sum(counter.busy_area[first : self.period])
            counters.append(
                CounterStats(
                    key=counter.key,
                    staff=counter.staff,
                    served=counter.served,
                    mean_wait_h=counter.wait_sum / counter.wait_count / HOUR
                    if counter.wait_count
                    else 0.0,
                    utilization=busy / (counter.staff * period_time) if period_time else 0.0,
                    daily_queue=[
                        counter.queue_area[k] / timeline.lengths[k] for k in range(timeline.days)
                    ],
                    daily_max_queue=counter.max_queue,
                    daily_utilization=[
                        counter.busy_area[k] / (counter.staff * timeline.lengths[k])
                        for k in range(timeline.days)
                    ],
                )
            )
        permits: list[PermitStats] = []
        traces: dict[str, AppTrace] = {}
        for model in self.models:
            apps = [
                a for a in self.applications if a.model is model and a.submitted >= self.warmup_end
            ]
            lead: list[float] = []
            on_time = approved = rejected = 0
            for app in apps:
                if app.trace is not None:
                    traces[f"{model.id}-{app.number}"] = app.trace
                if app.finished is None:
                    continue
                approved += app.result == "approved"
                rejected += app.result == "rejected"
                lead.append(timeline.in_days(app.finished) - timeline.in_days(app.submitted))
                used = app.finished - app.submitted - paused_total(app.pauses, app.finished)
                on_time += used <= app.budget + 1e-6
            permits.append(
                PermitStats(
                    permit=model.permit.key,
                    arrived=len(apps),
                    approved=approved,
                    rejected=rejected,
                    unfinished=sum(a.finished is None for a in apps),
                    on_time=on_time,
                    lead_days=sorted(lead),
                    returns=sum(sum(a.returns.values()) for a in apps),
                )
            )
        return SimulationResult(
            scenario=self.scenario.name,
            seed=self.seed,
            days=[d.isoformat() for d in timeline.dates],
            period_days=self.period,
            permits=permits,
            counters=counters,
            traces=traces,
        )


def simulate(
    scenario: Scenario,
    models: Sequence[PermitModel],
    timeline: Timeline,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
    record_traces: bool = False,
) -> SimulationResult:
    return Simulation(scenario, models, timeline, seed=seed, record_traces=record_traces).run(
        progress
    )
