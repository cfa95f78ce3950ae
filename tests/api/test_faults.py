"""Faults answer 503 with a reason and Retry-After, never 500, and the connection survives:
Temporal unreachable, PostgreSQL refusing connections, an Update that does not answer in
time (a retry with the same key attaches to it), an unexpected error over real uvicorn."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from loket.compose import create_app
from loket.temporal_codec import DATA_CONVERTER
from tests.api.harness import BASE_URL, Api, api_settings, idempotent, running_api
from tests.support import PBG_FORM, eventually
from worker import build_worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_temporal_unreachable_answers_503_and_reads_still_work(
    db_dsn: str, task_queue: str
) -> None:
    dead = await Client.connect(
        f"127.0.0.1:{_free_port()}", lazy=True, data_converter=DATA_CONVERTER
    )
    app = create_app(api_settings(task_queue), db_dsn, client=dead)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            assert (await http.get("/api/public/permits/PBG")).status_code == 200
            r = await http.post(
                "/api/public/applications",
                json={"permit_type": "PBG", "form": PBG_FORM},
                headers=idempotent(),
            )
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "temporal_unavailable"
            assert int(r.headers["retry-after"]) >= 1
            # Readiness says which dependency is down; the catalog (database only) still reads.
            health = await http.get("/healthz")
            assert health.status_code == 503
            assert health.json()["checks"]["postgresql"] == "ok"
            assert health.json()["checks"]["temporal"] != "ok"
            assert (await http.get("/api/public/permits")).status_code == 200


async def test_postgresql_refusing_connections_answers_503(
    api: Api, db_dsn: str, pg_dsn: str
) -> None:
    name = await api.services.pool.fetchval("SELECT current_database()")
    admin = await asyncpg.connect(pg_dsn)
    try:
        await api.services.pool.expire_connections()
        # Superusers ignore connection limits; nobody connects to a closed database.
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        r = await api.http.get("/healthz")
        assert r.status_code == 503 and r.json()["checks"]["postgresql"] != "ok"
        r = await api.http.post(
            "/api/public/applications/PBG-2026-000001/track", json={"access_code": "X"}
        )
        assert r.status_code == 503 and r.json()["code"] == "database_unavailable"
        # A page answers the same fault as a page, with the reason.
        r = await api.http.get("/staff/inbox", headers={"cookie": "loket_session=" + "x" * 20})
        assert r.status_code == 503 and "text/html" in r.headers["content-type"]
        # What needs no database still answers.
        assert (await api.http.get("/api/public/permits")).status_code == 200
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    assert (await api.http.get("/healthz")).status_code == 200


@pytest.mark.devserver
async def test_an_update_without_answer_is_503_and_the_same_key_attaches_to_it(
    temporal_dev_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    temporal_ts_env = temporal_dev_env  # a real server: in-flight Updates are kept by ID
    app = create_app(
        api_settings(task_queue, update_timeout_s=1.0), db_dsn, client=temporal_ts_env.client
    )
    async with app.router.lifespan_context(app):
        api = Api(
            app,
            app.state.services,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL),
        )
        await api.add_user("rina", "staff", "dpmptsp/front_office")
        async with build_worker(temporal_ts_env.client, api.services.pool, task_queue):
            reg = (await api.submit())["registration_number"]

            async def tasks() -> Any:
                return (await api.as_user("rina", "GET", "/api/staff/inbox")).json()

            await eventually(tasks, lambda rows: len(rows) == 1)
        # No worker polls now: the Update cannot answer, whatever the time.
        url = f"/api/staff/tasks/{reg}/registration/claim"
        r = await api.as_user("rina", "POST", url, key="claim-once")
        assert r.status_code == 503 and r.json()["code"] == "update_pending"
        assert r.headers["retry-after"]
        # The worker is back (it replays the history first): give the retry time to answer.
        api.services.settings.update_timeout_s = 60.0
        async with build_worker(temporal_ts_env.client, api.services.pool, task_queue):
            r = await api.as_user("rina", "POST", url, key="claim-once")
            assert r.status_code == 200, r.text
            assert r.json()["open_steps"][0]["claimed_by"] == "rina"
        async with api.services.pool.acquire() as conn:
            claims = await conn.fetchval(
                "SELECT count(*) FROM audit_events WHERE registration_number = $1 "
                "AND event = 'task_claimed'",
                reg,
            )
        assert claims == 1
        await api.http.aclose()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def test_keep_alive_survives_an_error_answer_over_uvicorn(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    app: FastAPI = create_app(api_settings(task_queue), db_dsn, client=temporal_ts_env.client)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), bool)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = "GET {} HTTP/1.1\r\nHost: loket.test\r\n\r\n"
        answers = []
        for path in ("/boom", "/api/public/applications/%00/track", "/healthz"):
            writer.write(request.format(path).encode())
            await writer.drain()
            answers.append(await _read_response(reader))  # the same TCP connection
        (s1, h1, b1), (s2, _, _), (s3, _, b3) = answers
        assert s1 == 500 and b'"code":"internal_error"' in b1
        assert h1.get("connection") != "close"
        assert s2 in (404, 405, 422)
        assert s3 == 200 and b'"status":"ok"' in b3
        writer.close()
    finally:
        server.should_exit = True
        await serving


async def test_bodies_are_bounded_before_parsing(api: Api) -> None:
    url = "/api/public/permits/PBG/fees/preview"
    limit = api.services.settings.max_body_bytes
    big = b'{"form": {"x": "' + b"a" * limit + b'"}}'
    r = await api.http.post(url, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"

    async def chunks() -> Any:  # no Content-Length: counted while read
        for _ in range(limit // 1000 + 2):
            yield b" " * 1000

    r = await api.http.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"

    many = "{" + ",".join(f'"k{i}":1' for i in range(api.services.settings.max_json_keys)) + "}"
    r = await api.http.post(
        url, content=f'{{"form": {many}}}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["code"] == "body_too_complex"
    deep = '{"form": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}"
    r = await api.http.post(url, content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "body_too_complex"
    # Keys inside strings are text, not structure.
    text = {"form": {"building_use": "usaha", "building_area_m2": 10, "x": ":," * 3000}}
    r = await api.http.post(url, json=text)
    assert r.status_code == 422 and r.json()["code"] == "invalid_form"
    assert [e["field"] for e in r.json()["errors"]] == ["x"]


async def test_no_store_everywhere_but_static_and_hsts_only_over_https(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    settings = api_settings(task_queue, trusted_proxies=["127.0.0.1"])
    app = create_app(settings, db_dsn, client=temporal_ts_env.client)
    async with running_api(temporal_ts_env.client, db_dsn, task_queue, app=app) as api:
        for path in ("/api/public/permits", "/api/auth/me", "/track", "/nope"):
            r = await api.http.get(path)
            assert r.headers["cache-control"] == "no-store", path
            assert "strict-transport-security" not in r.headers
        r = await api.http.get("/static/app.css")
        assert r.headers.get("cache-control") != "no-store"
        r = await api.http.get("/api/public/permits", headers={"x-forwarded-proto": "https"})
        assert r.headers["strict-transport-security"].startswith("max-age=")
        https = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://loket.test"
        )
        r = await https.get("/api/public/permits")
        assert "strict-transport-security" in r.headers
        await https.aclose()
    # An untrusted peer cannot claim https.
    async with running_api(temporal_ts_env.client, db_dsn, task_queue) as api:
        r = await api.http.get("/api/public/permits", headers={"x-forwarded-proto": "https"})
        assert "strict-transport-security" not in r.headers


async def test_an_exhausted_pool_answers_503_instead_of_hanging(api: Api) -> None:
    api.services.settings.db_acquire_timeout_s = 0.2
    pool = api.services.pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        r = await api.http.post(
            "/api/public/applications/PBG-2026-000001/track", json={"access_code": "X"}
        )
        assert r.status_code == 503 and r.json()["code"] == "database_unavailable"
        assert r.headers["retry-after"]
    finally:
        for conn in held:
            await pool.release(conn)
    assert (await api.http.get("/healthz")).status_code == 200
