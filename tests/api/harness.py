"""The real API in a test: app lifespan, a worker on the same task queue, an HTTP client.

Runs against a real PostgreSQL (``db_dsn``) and a real Temporal server (the client of a
``WorkflowEnvironment``); requests go through ``httpx.ASGITransport`` into the app.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from temporalio.client import Client

from loket.compose import create_app
from loket.services import Services
from loket.settings import Settings
from loket.store import users
from tests.support import PBG_FORM
from worker import build_worker

BASE_URL = "http://loket.test"
PASSWORD = "rahasia-loket-1"  # test accounts only
FAST_BCRYPT_ROUNDS = 4


@dataclass
class Api:
    app: FastAPI
    services: Services
    http: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    async def add_user(
        self,
        username: str,
        role: str = "staff",
        *counters: str,
        agency: str | None = None,
        password: str = PASSWORD,
    ) -> users.User:
        async with self.services.pool.acquire() as conn:
            return await users.create_user(
                conn,
                self.services.catalog.agencies,
                username=username,
                full_name=username.title(),
                password=password,
                role=role,
                agency=agency,
                counters=counters,
                rounds=FAST_BCRYPT_ROUNDS,
            )

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        """Sign in through the API; returns the Authorization header."""
        if username not in self.tokens:
            r = await self.http.post(
                "/api/auth/token", data={"username": username, "password": password}
            )
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def as_user(
        self, username: str, method: str, url: str, json: Any = None, *, key: str | None = None
    ) -> httpx.Response:
        """A request as ``username``; a POST carries an Idempotency-Key (``key``, or a new
        one: a new request each call)."""
        headers = await self.login(username)
        if method == "POST":
            headers = {**headers, **idempotent(key)}
        return await self.http.request(method, url, json=json, headers=headers)

    async def submit(self, permit_type: str = "PBG", form: dict[str, Any] | None = None) -> Any:
        r = await self.http.post(
            "/api/public/applications",
            json={"permit_type": permit_type, "form": form or PBG_FORM},
            headers=idempotent(),
        )
        assert r.status_code == 201, r.text
        return r.json()


def idempotent(key: str | None = None) -> dict[str, str]:
    return {"Idempotency-Key": key or uuid.uuid4().hex}


# Tests poll tracking and sign in often from one address: brakes far above that, unless a
# test asks for its own (tests/api/test_brakes.py).
RELAXED_BRAKES: dict[str, Any] = {
    "track_per_ip": 100_000,
    "track_per_application": 100_000,
    "signin_per_ip": 100_000,
    "recover_per_application": 100_000,
}


# Uploaded files of API tests go to a folder of this run, never under the repository (10A).
TEST_FILES = Path(tempfile.gettempdir()) / f"loket-test-files-{os.getpid()}"


def api_settings(task_queue: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "file_store_url": f"file://{TEST_FILES}",
        "temporal_task_queue": task_queue,
        "search_attributes": True,
        **RELAXED_BRAKES,
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def running_api(
    client: Client,
    dsn: str,
    task_queue: str,
    *,
    raise_app_exceptions: bool = True,
    app: FastAPI | None = None,
) -> AsyncIterator[Api]:
    """The app with its lifespan running, a worker polling ``task_queue``, an HTTP client."""
    app = app or create_app(api_settings(task_queue), dsn, client=client)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        async with build_worker(client, services.pool, task_queue, settings=services.settings):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                yield Api(app, services, http)
