"""Hypothesis over the payment callback: signed and unsigned, well-formed and not, for a
real open bill and for nonsense. No answer is a 5xx, every answer is ErrorOut or a
recorded payment, and the bill is paid at most once, for its exact amount.

Tests/api/test_fuzz.py (schemathesis) reaches the endpoint too, but only unsigned: here
the bodies are signed with the bank's real secret, so they get past the signature check
into parsing, the store and the workflow."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import httpx
import pytest_asyncio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from loket.fees import MAX_AMOUNT
from loket.services.payments import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.api.harness import Api
from tests.api.payments_support import (
    BANK,
    PTKA_AMOUNT,
    SECRET,
    billed_ptka,
    payments_api,
)

T = TypeVar("T")
EXAMPLES = 150


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> AsyncIterator[Api]:
    async with payments_api(temporal_ts_env.client, db_dsn, task_queue) as running:
        yield running


def _values(code: str) -> dict[str, st.SearchStrategy[Any]]:
    weird = st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.none(), st.booleans())
    return {
        "transaction_id": _mostly(
            st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True), weird, share=9
        ),
        "billing_code": _mostly(
            st.just(code),
            st.one_of(
                st.from_regex(r"[0-9]{18,38}", fullmatch=True),
                st.text(alphabet="0123456789", max_size=60),
                weird,
            ),
        ),
        "amount": _mostly(
            st.sampled_from([PTKA_AMOUNT, PTKA_AMOUNT, PTKA_AMOUNT - 1, PTKA_AMOUNT + 100]),
            st.one_of(st.integers(-(2**70), 2**70), st.just(MAX_AMOUNT + 1), weird),
        ),
        "paid_at": st.one_of(
            st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
            st.datetimes().map(lambda d: d.isoformat()),  # naive: refused
            weird,
        ),
    }


def _bodies(code: str) -> st.SearchStrategy[bytes]:
    values = _values(code)
    objects = st.fixed_dictionaries(
        {},
        optional={**values, "extra": st.text(max_size=10)},
    )
    complete = st.fixed_dictionaries(values).map(lambda o: json.dumps(o).encode())
    return _mostly(
        complete,
        st.one_of(
            objects.map(lambda o: json.dumps(o).encode()),
            st.binary(max_size=300),
            st.just(b"\x00\xff{"),
        ),
    )


def _mostly(
    usual: st.SearchStrategy[T], other: st.SearchStrategy[T], share: int = 7
) -> st.SearchStrategy[T]:
    """``usual`` in ``share`` of ten cases: most requests get past the first check."""
    return st.integers(0, 9).flatmap(lambda i: usual if i < share else other)


def _timestamps() -> st.SearchStrategy[str | None]:
    now = int(time.time())
    return _mostly(st.just(str(now)), _odd_timestamps(now))


def _odd_timestamps(now: int) -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.integers(now - 10**6, now + 10**6).map(str),
        st.text(alphabet="0123456789", max_size=30),
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
        st.none(),
    )


def _run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)


async def test_no_callback_answers_5xx(api: Api) -> None:
    reg, code = await billed_ptka(api)
    loop = asyncio.get_running_loop()
    statuses: Counter[int] = Counter()
    codes: Counter[str] = Counter()

    async def send(bank: str, body: bytes, timestamp: str | None, signing: str) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if timestamp is not None:
            headers[TIMESTAMP_HEADER] = timestamp
        if signing == "right" and timestamp is not None:
            headers[SIGNATURE_HEADER] = sign(SECRET.encode(), timestamp, body)
        elif signing == "wrong":
            headers[SIGNATURE_HEADER] = "0" * 64
        return await api.http.post(f"/api/payments/callback/{bank}", content=body, headers=headers)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        bank=_mostly(st.just(BANK), st.from_regex(r"[a-z][a-z0-9_]{0,40}", fullmatch=True), 9),
        body=_bodies(code),
        timestamp=_timestamps(),
        signing=_mostly(st.just("right"), st.sampled_from(["wrong", "none"]), 8),
    )
    def probe(bank: str, body: bytes, timestamp: str | None, signing: str) -> None:
        r = _run(loop, send(bank, body, timestamp, signing))
        statuses[r.status_code] += 1
        assert r.status_code < 500, (r.status_code, r.text, bank, body, timestamp)
        answer = r.json()
        if r.status_code == 200:
            assert answer["billing_code"] == code and answer["amount"] == PTKA_AMOUNT
        else:
            assert set(answer) >= {"code", "message", "params"}
            codes[answer["code"]] += 1

    await asyncio.to_thread(probe)
    print(f"statuses {dict(statuses)}; codes {dict(codes)}")  # shown with -s
    # The generation reached past the signature into the bill's rules.
    assert codes["payment_signature_invalid"] and codes["invalid_request"]
    assert statuses[200] or any(c.startswith("bill_") for c in codes)
    assert sum(statuses.values()) == EXAMPLES
    async with api.services.pool.acquire() as conn:
        paid = await conn.fetch("SELECT amount FROM payments WHERE registration_number = $1", reg)
        bill = await conn.fetchval("SELECT amount FROM bills WHERE billing_code = $1", code)
    assert bill == PTKA_AMOUNT and len(paid) <= 1
    assert all(p["amount"] == PTKA_AMOUNT for p in paid)
