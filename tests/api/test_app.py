"""The app itself: OpenAPI, /docs, health, and errors that are always JSON."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from loket.compose import create_app
from tests.api.harness import Api, api_settings, running_api

ROUTES = {
    ("/healthz", "get"),
    ("/api/public/permits", "get"),
    ("/api/public/permits/{permit_id}", "get"),
    ("/api/public/permits/{permit_id}/fees/preview", "post"),
    ("/api/public/applications", "post"),
    ("/api/public/applications/{registration_number}/track", "post"),
    ("/api/public/applications/{registration_number}/resubmit", "post"),
    ("/api/auth/token", "post"),
    ("/api/auth/logout", "post"),
    ("/api/auth/me", "get"),
    ("/api/staff/inbox", "get"),
    ("/api/staff/tasks/{registration_number}/{step_id}", "get"),
    ("/api/staff/tasks/{registration_number}/{step_id}/claim", "post"),
    ("/api/staff/tasks/{registration_number}/{step_id}/decide", "post"),
    ("/api/admin/applications/{registration_number}/cancel", "post"),
    ("/api/admin/applications/{registration_number}/audit", "get"),
}


async def test_openapi_lists_the_routes_and_docs_answer(api: Api) -> None:
    r = await api.http.get("/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    listed = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    assert listed >= ROUTES
    assert "OAuth2PasswordBearer" in schema["components"]["securitySchemes"]
    docs = await api.http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_healthz(api: Api) -> None:
    r = await api.http.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["permit_types"] >= 3


async def test_errors_are_json_without_stack_traces(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    app: FastAPI = create_app(api_settings(task_queue), db_dsn, client=temporal_ts_env.client)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    async with running_api(
        temporal_ts_env.client, db_dsn, task_queue, app=app, raise_app_exceptions=False
    ) as api:
        r = await api.http.get("/boom")
        assert r.status_code == 500
        assert r.json()["code"] == "internal_error" and r.json()["params"] == {}
        assert "hunter2" not in r.text and "Traceback" not in r.text

        r = await api.http.get("/no/such/route")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        r = await api.http.delete("/api/public/permits")
        assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
        r = await api.http.post(
            "/api/public/applications",
            content=b"{not json",
            headers={"content-type": "application/json", "Idempotency-Key": "k1"},
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_request"
        assert r.json()["errors"][0]["field"]


@pytest.mark.parametrize("path", ["/api/staff/inbox", "/api/auth/me"])
async def test_unauthenticated_is_401_json(api: Api, path: str) -> None:
    r = await api.http.get(path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert set(r.json()) == {"code", "message", "params"}
    assert r.json()["code"] == "unauthorized"
