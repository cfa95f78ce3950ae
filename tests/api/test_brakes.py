"""Brakes: rate limits per client address and per registration number on tracking, the
sign-in lockout per user name; 429 with Retry-After, audited, shared through PostgreSQL by
every API process. One window spans years here, so no test depends on the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from temporalio.testing import WorkflowEnvironment

from loket.compose import create_app
from tests.api.harness import BASE_URL, PASSWORD, Api, api_settings, running_api
from tests.support import SIP_FORM
from tests.web.support import Browser

TIGHT = {
    "rate_window_s": 10**9,  # one window for the whole test
    "track_per_ip": 6,
    "track_per_application": 3,
    "signin_per_ip": 1000,
    "signin_max_failures": 3,
    "signin_lockout_s": 120,
}


@asynccontextmanager
async def tight_api(env: WorkflowEnvironment, dsn: str, task_queue: str) -> AsyncIterator[Api]:
    app = create_app(api_settings(task_queue, **TIGHT), dsn, client=env.client)
    async with running_api(env.client, dsn, task_queue, app=app) as api:
        yield api


async def _log(api: Api, where: str) -> list[tuple[str | None, str]]:
    async with api.services.pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT username, code FROM security_log WHERE {where} ORDER BY id"
        )
    return [(r["username"], r["code"]) for r in rows]


async def test_tracking_is_braked_per_file_and_per_address_across_processes(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    async with tight_api(temporal_ts_env, db_dsn, task_queue) as api:
        done = await api.submit("SIP", SIP_FORM)
        reg, code = done["registration_number"], done["access_code"]
        url = f"/api/public/applications/{reg}/track"
        for _ in range(3):  # wrong codes count against the file
            r = await api.http.post(url, json={"access_code": "WRONGCODE2"})
            assert r.status_code == 404 and r.json()["code"] == "tracking_not_found"
        r = await api.http.post(url, json={"access_code": code})  # even the right one now
        assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        assert int(r.headers["retry-after"]) >= 1
        # Another process on the same database sees the same counts.
        other = create_app(api_settings(task_queue, **TIGHT), db_dsn, client=temporal_ts_env.client)
        async with other.router.lifespan_context(other):
            transport = httpx.ASGITransport(app=other)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                r = await http.post(url, json={"access_code": code})
                assert r.status_code == 429
                # Another file from this address: allowed until the address's budget ends.
                unknown = "/api/public/applications/SIP-2026-000999/track"
                r = await http.post(unknown, json={"access_code": code})
                assert r.status_code == 404
                r = await http.post(unknown, json={"access_code": code})
                assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        assert (None, "rate_limited") in await _log(api, f"registration_number = '{reg}'")
        assert await _log(api, "code = 'tracking_not_found'") == [(None, "tracking_not_found")] * 4


async def test_sign_in_locks_a_name_after_repeated_failures(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    async with tight_api(temporal_ts_env, db_dsn, task_queue) as api:
        await api.add_user("rina", "staff", "dpmptsp/front_office")
        await api.add_user("tono", "staff", "dpmptsp/front_office")
        for _ in range(3):
            r = await api.http.post(
                "/api/auth/token", data={"username": "rina", "password": "wrong-password"}
            )
            assert r.status_code == 401 and r.json()["code"] == "wrong_credentials"
        r = await api.http.post("/api/auth/token", data={"username": "rina", "password": PASSWORD})
        assert r.status_code == 429 and r.json()["code"] == "signin_locked"
        assert 1 <= int(r.headers["retry-after"]) <= 120
        # The sign-in page shares the lockout.
        browser = Browser.open(api)
        await browser.get("/login")
        r = await browser.post("/login", {"username": "rina", "password": PASSWORD})
        assert r.status_code == 429 and r.headers["retry-after"]
        await browser.close()
        # Another name is not locked; a success clears the count of failures.
        assert (await api.login("tono"))["Authorization"].startswith("Bearer ")
        assert await _log(api, "username = 'rina'") == [
            ("rina", "wrong_credentials"),
            ("rina", "wrong_credentials"),
            ("rina", "signin_locked"),
            ("rina", "signin_locked"),
            ("rina", "signin_locked"),
        ]
