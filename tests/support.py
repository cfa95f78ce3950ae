"""Small helpers shared by tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from http.server import ThreadingHTTPServer
from typing import Any, TypeVar

T = TypeVar("T")


def refusal_code(exc: BaseException) -> str:
    """The refusal code a failed Update carries (``ApplicationError`` of type Refused)."""
    cause = getattr(exc, "cause", None)
    assert getattr(cause, "type", None) == "Refused", f"not a refusal: {exc!r}"
    return str(cause.message)  # type: ignore[union-attr]


def refusal_params(exc: BaseException) -> dict[str, Any]:
    cause = getattr(exc, "cause", None)
    details = getattr(cause, "details", ())
    return dict(details[0]) if details else {}


async def eventually(
    probe: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    *,
    within_s: float = 20.0,
    every_s: float = 0.05,
) -> T:
    """Poll ``probe`` until ``check`` holds; fail with the last value seen."""
    deadline = time.monotonic() + within_s
    while True:
        value = await probe()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within_s}s; last value: {value!r}")
        await asyncio.sleep(every_s)


# Sample applications, shared by every kind of test.
PBG_FORM: dict[str, Any] = {
    "applicant_name": "Siti Rahayu",
    "applicant_nik": "3316014101900001",
    "site_address": "Jl. Pemuda 12, Blora",
    "building_use": "usaha",
    "building_area_m2": 640,
    "floors": 2,
    "fence_length_m": 20,
}

SIP_FORM: dict[str, Any] = {
    "applicant_name": "dr. Andi Pratama",
    "str_number": "STR-3316-2026-0042",
    "profession": "dokter",
    "facility_name": "Klinik Sehat Blora",
}


class HttpServer(ThreadingHTTPServer):
    """The tests' HTTP endpoints (webhooks, the SMS gateway). The standard listen backlog
    is 5, below what concurrent dispatchers send at once (three of 8 in
    test_dispatcher.py): on a loaded machine the surplus connections were reset, a
    transport failure the sender then rightly retried (a CI run saw one)."""

    request_queue_size = 128
