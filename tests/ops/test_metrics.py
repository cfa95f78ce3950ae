"""/metrics of the API and of the worker, scraped from their ops servers while a real PBG
application is submitted and decided: the HTTP series and the Temporal SDK's series move;
the domain series move through the ``observe_*`` functions the record activity calls."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from loket import metrics
from loket.store import gauges
from tests.ops.conftest import OpsStack
from tests.support import eventually

DECIDE_ROUTE = "/api/staff/tasks/{registration_number}/{step_id}/decide"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(base: str) -> Samples:
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{base}/metrics")
    assert r.status_code == 200
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

    api_after = await scrape(ops_stack.api_ops)
    worker_after = await scrape(ops_stack.worker_ops)
    for before, after in ((api_before, api_after), (worker_before, worker_after)):
        decided = "loket_http_requests_total"
        assert total(after, decided, route=DECIDE_ROUTE, status="200") == (
            total(before, decided, route=DECIDE_ROUTE, status="200") + 1
        )
        assert total(
            after, "loket_http_request_duration_seconds_count", route=DECIDE_ROUTE
        ) == total(before, "loket_http_request_duration_seconds_count", route=DECIDE_ROUTE) + 1
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

