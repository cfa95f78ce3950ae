"""Structured logs: one JSON object a line, with the registration number, the workflow and
activity IDs and the user where known, and no personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from loket import logs, telemetry

REG = "PBG-2026-000123"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    logs.configure("json", "INFO", stream=out)
    yield out
    _remove_ours()


def _remove_ours() -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "loket"]:
        root.removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_level_logger_and_the_bound_user(stream: io.StringIO) -> None:
    log = logging.getLogger("loket.test")
    with logs.bind(user="rina", registration_number=REG):
        log.info("decided %s", "registration")
    log.warning("outside")
    first, second = records(stream)
    assert first["level"] == "INFO" and first["logger"] == "loket.test"
    assert first["message"] == "decided registration"
    assert (first["user"], first["registration_number"]) == ("rina", REG)
    assert "time" in first
    assert "user" not in second and "registration_number" not in second


def test_personal_data_in_extra_is_redacted(stream: io.StringIO) -> None:
    logging.getLogger("loket.test").info(
        "submitted", extra={"full_name": "Siti Rahayu", "nik": "3316010101900001", "step": "x"}
    )
    (record,) = records(stream)
    assert record["full_name"] == "[redacted]" and record["nik"] == "[redacted]"
    assert record["step"] == "x"
    assert "Siti" not in stream.getvalue() and "3316010101900001" not in stream.getvalue()


async def test_records_inside_an_activity_carry_its_ids(stream: io.StringIO) -> None:
    @activity.defn(name="record_transition")
    async def record_transition() -> None:
        logging.getLogger("activities.records").info("plain module logger")
        activity.logger.info("the SDK's activity logger")

    env = ActivityEnvironment()
    env.info = env.info.__class__(
        **{**env.info.__dict__, "workflow_id": REG, "activity_type": "record_transition"}
    )
    await env.run(record_transition)
    plain, sdk = records(stream)
    for record in (plain, sdk):
        assert record["registration_number"] == REG
        assert record["workflow_id"] == REG
        assert record["activity_type"] == "record_transition"
        assert record["activity_id"] == env.info.activity_id
        assert "temporal_activity" not in record


def test_text_format_appends_the_context() -> None:
    out = io.StringIO()
    logs.configure("text", "INFO", stream=out)
    with logs.bind(registration_number=REG):
        logging.getLogger("loket.test").info("opened")
    _remove_ours()
    assert out.getvalue().rstrip().endswith(f"opened [registration_number={REG}]")


async def test_api_requests_log_their_route_status_and_registration_number(
    stream: io.StringIO,
) -> None:
    async def task(request: Request) -> Response:
        logging.getLogger("loket.services").info("deciding")
        return JSONResponse({}, status_code=409)

    app = Starlette(routes=[Route("/api/staff/tasks/{registration_number}/{step_id}", task)])
    transport = httpx.ASGITransport(app=telemetry.RequestTelemetry(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://loket.test") as http:
        await http.get(f"/api/staff/tasks/{REG}/registration")
    inner, request = records(stream)
    assert inner["registration_number"] == REG and inner["logger"] == "loket.services"
    assert request["logger"] == "loket.http"
    assert request["registration_number"] == REG and request["http_status"] == 409
    assert request["message"].startswith("GET /api/staff/tasks/{registration_number}/{step_id} 409")
