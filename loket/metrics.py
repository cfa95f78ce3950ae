"""Prometheus metrics of Loket: the domain series, the API's HTTP series, and the Temporal
SDK's own metrics, all served as one ``/metrics`` by the ops server (loket/api/ops.py).

The domain functions (``observe_*``) are what the workflow's record activity and the
services call; they take plain values so that this module imports no layer above it.
Series live in prometheus-client's default registry (one per process, like the SDK's
runtime), which also carries the process and Python collectors.

The SDK's metrics come from its own Prometheus exporter (``temporalio.runtime.Runtime``
with ``PrometheusConfig``), bound to a loopback port of this process; ``/metrics`` appends
that exporter's text to prometheus-client's, so Prometheus scrapes one target per process.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from loket.case.messages import RecordBatch

log = logging.getLogger(__name__)

# Hand-off: from a task opening at a counter to its decision, in seconds (wall clock, pauses
# included: what the applicant waits). Buckets from a minute to a quarter of a year.
_HANDOFF_BUCKETS = (60, 600, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400, 28 * 86400, 90 * 86400)
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

DECISIONS = Counter(
    "loket_decisions", "Staff decisions recorded, by counter and outcome", ["counter", "outcome"]
)
REFUSALS = Counter(
    "loket_refusals",
    "Requests refused by the case core, by refusal code and counter",
    ["code", "counter"],
)
HANDOFF_SECONDS = Histogram(
    "loket_handoff_seconds",
    "Seconds from a task opening at a counter to its decision",
    ["counter"],
    buckets=_HANDOFF_BUCKETS,
)
ESCALATIONS = Counter("loket_escalations", "Escalation rules fired, by level", ["level"])
DELIVERY_FAILURES = Counter(
    "loket_delivery_failures", "Failed notification delivery attempts, by channel", ["channel"]
)
UPLOADS = Counter("loket_uploads", "Documents uploaded, by document kind", ["kind"])
UPLOAD_BYTES = Counter("loket_upload_bytes", "Bytes of documents uploaded")
STEPS_OVERDUE = Gauge(
    "loket_steps_overdue", "Open steps past their deadline, by agency (read model)", ["agency"]
)
OUTBOX_BACKLOG = Gauge(
    "loket_outbox_backlog", "Notifications waiting for delivery, by kind (read model)", ["kind"]
)
HTTP_REQUESTS = Counter(
    "loket_http_requests", "HTTP requests answered by the API", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "loket_http_request_duration_seconds",
    "Seconds to answer an HTTP request",
    ["method", "route"],
    buckets=_HTTP_BUCKETS,
)
# A full collection walks every object of every cached workflow while the worker's Python
# stands still: at thousands of cached cases it is the longest pause a decision can meet.
GC_PAUSE_SECONDS = Histogram(
    "loket_gc_pause_seconds",
    "Python garbage collection pauses, by generation (2: a full collection)",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
_LONG_GC_S = 0.25  # logged as well: a pause a staff member could notice


class _GcWatch:
    """Times every collection (``gc.callbacks``; collections run on one thread at a time).

    Python code inside a collection lets the GIL change hands mid-conversion of an AST, which
    on Python 3.11 opens CPython's converter race (gh-106905) to another thread converting;
    a worker's only conversion, the traceback's caret parse, suppresses the error it raises.
    """

    def __init__(self) -> None:
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        generation = int(info["generation"])
        GC_PAUSE_SECONDS.labels(generation=str(generation)).observe(pause)
        if pause >= _LONG_GC_S:
            log.warning(
                "long garbage collection pause: generation %d, %.3f s",
                generation,
                pause,
                extra={
                    "generation": generation,
                    "pause_s": round(pause, 3),
                    "collected": info["collected"],
                },
            )


_GC_WATCH = _GcWatch()


def watch_gc() -> None:
    """Time the process's garbage collections into ``loket_gc_pause_seconds``; once."""
    if _GC_WATCH not in gc.callbacks:
        gc.callbacks.append(_GC_WATCH)


def unwatch_gc() -> None:
    if _GC_WATCH in gc.callbacks:
        gc.callbacks.remove(_GC_WATCH)


# --------------------------------------------------------------------------- domain


def observe_decision(counter: str, outcome: str, handoff_seconds: float | None = None) -> None:
    DECISIONS.labels(counter=counter, outcome=outcome).inc()
    if handoff_seconds is not None and handoff_seconds >= 0:
        HANDOFF_SECONDS.labels(counter=counter).observe(handoff_seconds)


def observe_refusal(code: str, counter: str = "") -> None:
    """A request the case core refused (``Refused.code``); counter empty when none applies."""
    REFUSALS.labels(code=code, counter=counter).inc()


def observe_escalation(level: int) -> None:
    ESCALATIONS.labels(level=str(level)).inc()


def observe_delivery_failure(channel: str) -> None:
    DELIVERY_FAILURES.labels(channel=channel).inc()


def observe_upload(kind: str, size_bytes: int) -> None:
    UPLOADS.labels(kind=kind).inc()
    UPLOAD_BYTES.inc(size_bytes)


def observe_batch(batch: RecordBatch) -> None:
    """Count what one record batch changed: decided tasks and fired escalations.

    Call it once per batch, after the store applied it for the first time (a retried,
    already-applied batch must not count twice).
    """
    for task in batch.tasks:
        if task.outcome is not None and task.closed_at is not None:
            waited = (task.closed_at - task.opened_at).total_seconds()
            observe_decision(task.counter, task.outcome, waited)
    for escalation in batch.escalations:
        observe_escalation(escalation.level)


def set_steps_overdue(by_agency: Mapping[str, int]) -> None:
    """Replace the gauge's series: an agency with nothing overdue any more goes to zero."""
    for labels in _label_values(STEPS_OVERDUE):
        if labels[0] not in by_agency:
            STEPS_OVERDUE.labels(agency=labels[0]).set(0)
    for agency, count in by_agency.items():
        STEPS_OVERDUE.labels(agency=agency).set(count)


def set_outbox_backlog(by_kind: Mapping[str, int]) -> None:
    for labels in _label_values(OUTBOX_BACKLOG):
        if labels[0] not in by_kind:
            OUTBOX_BACKLOG.labels(kind=labels[0]).set(0)
    for kind, count in by_kind.items():
        OUTBOX_BACKLOG.labels(kind=kind).set(count)


def _label_values(gauge: Gauge) -> list[tuple[str, ...]]:
    return [
        tuple(sample.labels.values())
        for metric in gauge.collect()
        for sample in metric.samples
        if sample.labels
    ]


# --------------------------------------------------------------------------- HTTP


def observe_http(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    HTTP_SECONDS.labels(method=method, route=route).observe(seconds)


# --------------------------------------------------------------------------- Temporal SDK

_runtime_lock = threading.Lock()
_runtime: Runtime | None = None
_sdk_metrics_url: str | None = None


def temporal_runtime(bind_address: str = "") -> Runtime:
    """The process's Temporal runtime, made the default for every client connected after
    this call: the core's own logs forwarded to the ``temporalio.core`` logger (so they
    come out in Loket's log format, not the core's), and with ``bind_address``
    (``127.0.0.1:PORT``) the SDK's Prometheus exporter there, appended to ``/metrics``.

    One per process, made again only to add the exporter a first call did not ask for (the
    core binds the port once; clients connected before keep the runtime they had).
    """
    global _runtime, _sdk_metrics_url
    with _runtime_lock:
        if _runtime is None or (bind_address and _sdk_metrics_url is None):
            prometheus = (
                PrometheusConfig(
                    bind_address=bind_address,
                    counters_total_suffix=True,
                    durations_as_seconds=True,
                )
                if bind_address
                else None
            )
            _runtime = Runtime(
                telemetry=TelemetryConfig(
                    logging=LoggingConfig(
                        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
                    ),
                    metrics=prometheus,
                )
            )
            Runtime.set_default(_runtime, error_if_already_set=False)
            if bind_address:
                _sdk_metrics_url = f"http://{bind_address}/metrics"
                log.info("Temporal SDK metrics on %s", _sdk_metrics_url)
        return _runtime


async def exposition(http: httpx.AsyncClient | None = None) -> bytes:
    """The text Prometheus scrapes: prometheus-client's series, then the SDK's."""
    own = generate_latest(REGISTRY)
    if _sdk_metrics_url is None:
        return own
    try:
        if http is None:
            async with httpx.AsyncClient(timeout=2.0) as client:
                sdk = await client.get(_sdk_metrics_url)
        else:
            sdk = await http.get(_sdk_metrics_url, timeout=2.0)
        sdk.raise_for_status()
    except httpx.HTTPError as exc:
        # The own series still answer; the gap shows in the SDK series.
        log.warning("Temporal SDK metrics unavailable: %s", exc)
        return own
    return own + b"\n" + sdk.content
