"""/metrics of the API and of the worker, scraped from their ops servers while a real PBG
application is submitted and decided: the HTTP series and the Temporal SDK's series move;
the domain series move through the ``observe_*`` functions the record activity calls."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from loket import metrics
from loket.store import gauges
from tests.ops.conftest import OpsStack
from tests.support import eventually
from worker import refresh_gauges

DECIDE_ROUTE = "/api/staff/tasks/{registration_number}/{step_id}/decide"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


async def scrape(base: str, keep_as: str = "") -> Samples:
    """The parsed samples of ``base``/metrics; ``keep_as``: also the text, under
    test-artifacts/ (what an operator sees after a decision)."""
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{base}/metrics")
    assert r.status_code == 200
    if keep_as:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / keep_as).write_text(r.text)
    assert r.headers["content-type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def names(samples: Samples) -> set[str]:
    return {n for n, _ in samples}


async def _decide_first_step(stack: OpsStack) -> str:
    api = stack.api
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    reg = (await api.submit())["registration_number"]

    async def inbox() -> list[object]:
        r = await api.as_user("rina", "GET", "/api/staff/inbox")
        rows: list[object] = r.json()
        return rows

    await eventually(inbox, lambda rows: len(rows) == 1)
    r = await api.as_user(
        "rina", "POST", f"/api/staff/tasks/{reg}/registration/decide", {"outcome": "approve"}
    )
    assert r.status_code == 200, r.text
    return reg


async def test_a_decision_moves_the_http_and_sdk_series_on_both_endpoints(
    ops_stack: OpsStack,
) -> None:
    api_before = await scrape(ops_stack.api_ops)
    worker_before = await scrape(ops_stack.worker_ops)

    await _decide_first_step(ops_stack)

    api_after = await scrape(ops_stack.api_ops, keep_as="metrics-api-after-decision.txt")
    worker_after = await scrape(ops_stack.worker_ops, keep_as="metrics-worker-after-decision.txt")
    for before, after in ((api_before, api_after), (worker_before, worker_after)):
        decided = "loket_http_requests_total"
        assert total(after, decided, route=DECIDE_ROUTE, status="200") == (
            total(before, decided, route=DECIDE_ROUTE, status="200") + 1
        )
        assert (
            total(after, "loket_http_request_duration_seconds_count", route=DECIDE_ROUTE)
            == total(before, "loket_http_request_duration_seconds_count", route=DECIDE_ROUTE) + 1
        )
        # The API's client sent the Update (a long request for the SDK: it waits for the
        # workflow's answer); the worker ran workflow and activity tasks.
        update = {"operation": "UpdateWorkflowExecution"}
        assert total(after, "temporal_long_request_total", **update) == (
            total(before, "temporal_long_request_total", **update) + 1
        )
        for series in (
            "temporal_workflow_task_execution_latency_count",
            "temporal_activity_execution_latency_count",
        ):
            assert total(after, series) > total(before, series), series


async def test_the_worker_times_its_garbage_collections(ops_stack: OpsStack) -> None:
    """Issue 13: a full collection stops a worker's Python for as long as it walks every
    cached workflow; the worker (build_worker) serves every collection's pause."""
    samples = await scrape(ops_stack.worker_ops)
    assert total(samples, "loket_gc_pause_seconds_count", generation="0") > 0


def test_a_full_collection_is_timed_and_a_long_one_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    metrics.watch_gc()
    metrics.watch_gc()
    assert gc.callbacks.count(metrics._GC_WATCH) == 1
    before = REGISTRY.get_sample_value("loket_gc_pause_seconds_count", {"generation": "2"}) or 0
    monkeypatch.setattr(metrics, "_LONG_GC_S", 0.0)
    with caplog.at_level(logging.WARNING, logger="loket.metrics"):
        gc.collect()
    after = REGISTRY.get_sample_value("loket_gc_pause_seconds_count", {"generation": "2"})
    assert after == before + 1
    (logged,) = [r for r in caplog.records if getattr(r, "generation", None) == 2]
    assert logged.pause_s >= 0  # type: ignore[attr-defined]


@dataclass
class _Task:
    counter: str
    opened_at: datetime
    outcome: str | None = None
    closed_at: datetime | None = None


@dataclass
class _Escalation:
    level: int


@dataclass
class _Batch:
    tasks: list[_Task] = field(default_factory=list)
    escalations: list[_Escalation] = field(default_factory=list)


async def test_domain_series_move_through_the_observe_functions(ops_stack: OpsStack) -> None:
    counter = "dpmptsp/front_office"
    opened = datetime(2026, 3, 16, 9, tzinfo=UTC)
    batch = _Batch(
        tasks=[
            _Task(counter, opened, "approve", opened + timedelta(hours=2)),
            _Task("dpupr/tpa", opened),  # opened, not decided: no decision, no hand-off
        ],
        escalations=[_Escalation(2)],
    )
    before = await scrape(ops_stack.worker_ops)
    metrics.observe_batch(batch)
    metrics.observe_refusal("step_not_open", counter)
    metrics.observe_delivery_failure("webhook")
    metrics.observe_upload("site_plan", 2048)
    after = await scrape(ops_stack.worker_ops)

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert delta("loket_decisions_total", counter=counter, outcome="approve") == 1
    assert delta("loket_decisions_total", counter="dpupr/tpa") == 0
    assert delta("loket_handoff_seconds_count", counter=counter) == 1
    assert delta("loket_handoff_seconds_sum", counter=counter) == 7200
    assert delta("loket_escalations_total", level="2") == 1
    assert delta("loket_refusals_total", code="step_not_open", counter=counter) == 1
    assert delta("loket_delivery_failures_total", channel="webhook") == 1
    assert delta("loket_uploads_total", kind="site_plan") == 1
    assert delta("loket_upload_bytes_total") == 2048


async def test_the_workers_keep_the_overdue_gauge_current(ops_stack: OpsStack) -> None:
    api = ops_stack.api
    reg = (await api.submit())["registration_number"]
    pool = api.services.pool

    async def tasks() -> int:
        async with pool.acquire() as conn:
            n: int = await conn.fetchval(
                "SELECT count(*) FROM tasks WHERE registration_number = $1", reg
            )
            return n

    async def backlog() -> dict[str, int]:
        async with pool.acquire() as conn:
            return await gauges.outbox_backlog_by_kind(conn)

    await eventually(tasks, lambda n: n == 1)
    # The applicant's "received" notice waits in the outbox until its channels are done.
    await eventually(backlog, lambda b: b == {})
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        assert await gauges.steps_overdue_by_agency(conn, now) == {}
        # The read model as it is once the deadline has passed (the clock cannot be moved
        # on the dev server; the gauge reads only the row).
        await conn.execute(
            "UPDATE tasks SET due_at = $2 WHERE registration_number = $1",
            reg,
            now - timedelta(days=1),
        )
        assert await gauges.steps_overdue_by_agency(conn, now) == {"dpmptsp": 1}
        assert await gauges.outbox_backlog_by_kind(conn) == {}
    refresher = asyncio.create_task(refresh_gauges(pool, 0.05))  # what the worker runs
    try:
        await eventually(
            lambda: scrape(ops_stack.api_ops),
            lambda s: total(s, "loket_steps_overdue", agency="dpmptsp") == 1,
        )
    finally:
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher


def test_gauges_read_zero_for_what_is_no_longer_reported() -> None:
    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, labels)

    metrics.set_steps_overdue({"dlh": 2, "dpupr": 1})
    metrics.set_steps_overdue({"dpupr": 3})
    assert value("loket_steps_overdue", agency="dlh") == 0
    assert value("loket_steps_overdue", agency="dpupr") == 3
    metrics.set_outbox_backlog({"escalation": 4})
    metrics.set_outbox_backlog({})
    assert value("loket_outbox_backlog", kind="escalation") == 0


DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards" / "loket.json"
PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "prometheus.yml"
METRIC = re.compile(r"\b((?:loket|temporal)_[a-z_]+)\b")


async def test_every_dashboard_query_uses_series_the_endpoints_serve(ops_stack: OpsStack) -> None:
    """Each panel's metrics and grouping labels exist in a real scrape, and each job it
    filters on is one Prometheus scrapes: a renamed metric breaks this, not the dashboard."""
    await _decide_first_step(ops_stack)
    opened = datetime(2026, 3, 16, 9, tzinfo=UTC)
    decided = _Task("dpmptsp/front_office", opened, "approve", opened + timedelta(minutes=5))
    metrics.observe_batch(_Batch(tasks=[decided], escalations=[_Escalation(1)]))
    metrics.observe_refusal("step_not_open", "dpmptsp/front_office")
    metrics.observe_delivery_failure("webhook")
    metrics.observe_upload("site_plan", 1)
    metrics.set_steps_overdue({"dpmptsp": 0})
    metrics.set_outbox_backlog({"escalation": 0})
    samples = {**await scrape(ops_stack.api_ops), **await scrape(ops_stack.worker_ops)}
    labels_of: dict[str, set[str]] = {}
    for name, labels in samples:
        labels_of.setdefault(name, set()).update(k for k, _ in labels)
    jobs = {job["job_name"] for job in yaml.safe_load(PROMETHEUS.read_text())["scrape_configs"]}

    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert len(panels) >= 12
    for panel in panels:
        for target in panel["targets"]:
            expr = target["expr"]
            used = set(METRIC.findall(expr))
            assert used, panel["title"]
            for metric in used:
                assert metric in labels_of, f"{panel['title']}: {metric} is not served"
            for group in re.findall(r"by \(([^)]*)\)", expr):
                for label in {g.strip() for g in group.split(",")} - {"le"}:
                    assert any(label in labels_of[m] for m in used), f"{panel['title']}: {label}"
            assert set(re.findall(r'job="([^"]+)"', expr)) <= jobs, panel["title"]
