"""Helpers of the web tests: a browser-like client over the app (cookies, CSRF tokens)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.api.harness import BASE_URL, PASSWORD, Api

_CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """One visitor: their own cookie jar, and the CSRF token of the last page they saw."""

    api: Api
    http: httpx.AsyncClient
    csrf: str = ""
    last: httpx.Response | None = field(default=None, repr=False)

    @classmethod
    def open(cls, api: Api) -> Browser:
        transport = httpx.ASGITransport(app=api.app)
        return cls(api, httpx.AsyncClient(transport=transport, base_url=BASE_URL))

    async def close(self) -> None:
        await self.http.aclose()

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        r = await self.http.get(url, **kwargs)
        if "csrf-token" in r.text:
            self.csrf = csrf_of(r.text)
        self.last = r
        return r

    async def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        if csrf and not self.csrf:
            await self.get("/")
        body = {**(data or {})}
        if csrf:
            body["csrf_token"] = self.csrf
        r = await self.http.post(url, data=body)
        if "csrf-token" in r.text:
            self.csrf = csrf_of(r.text)
        self.last = r
        return r

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/login")
        r = await self.post("/login", {"username": username, "password": password})
        assert r.status_code == 303, r.text
        await self.get(r.headers["location"])  # the new session's CSRF token
        return r
