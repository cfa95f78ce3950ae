"""Shared by the payment tests: an app with a test bank, signed callbacks, a billed PTKA."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.client import Client

from loket.compose import create_app
from loket.services.payments import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.api.harness import Api, api_settings, running_api
from tests.support import eventually

BANK = "bjb"
SECRET = "test-bank-secret-0123456789abcdef-0123"
PTKA_FORM: dict[str, Any] = {
    "employer_name": "PT Maju Jaya",
    "worker_name": "John Smith",
    "position": "Drilling engineer",
    "months": 6,
}
PTKA_AMOUNT = 6 * 1_500_000
TELLER = "teller"


@asynccontextmanager
async def payments_api(client: Client, dsn: str, task_queue: str) -> AsyncIterator[Api]:
    settings = api_settings(task_queue, payment_banks={BANK: SecretStr(SECRET)})
    app = create_app(settings, dsn, client=client)
    async with running_api(client, dsn, task_queue, app=app) as api:
        await api.add_user("sari", "staff", "disnaker/foreign_workers")
        await api.add_user(TELLER, "staff", "bank/payment")
        yield api


def signed(
    payload: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: sign(secret.encode(), ts, body),
    }
    return body, headers


def payment(code: str, amount: int = PTKA_AMOUNT, tx: str = "TX-0001") -> dict[str, Any]:
    return {
        "transaction_id": tx,
        "billing_code": code,
        "amount": amount,
        "paid_at": datetime.now(UTC).isoformat(),
    }


async def callback(
    http: httpx.AsyncClient, payload: dict[str, Any] | bytes, *, bank: str = BANK, **kw: Any
) -> httpx.Response:
    body, headers = signed(payload, **kw)
    return await http.post(f"/api/payments/callback/{bank}", content=body, headers=headers)


async def billed_ptka(api: Api) -> tuple[str, str]:
    """A PTKA application verified and billed: (registration number, billing code)."""
    reg = (await api.submit("PTKA", PTKA_FORM))["registration_number"]

    async def verify() -> httpx.Response:
        return await api.as_user(
            "sari", "POST", f"/api/staff/tasks/{reg}/verification/decide", {"outcome": "approve"}
        )

    r = await eventually(verify, lambda r: r.status_code != 404)
    assert r.status_code == 200, r.text
    (bill,) = r.json()["bills"]
    assert bill["status"] == "open" and bill["amount"] == PTKA_AMOUNT
    return reg, bill["billing_code"]


async def case_facts(api: Api, reg: str) -> dict[str, Any]:
    """What a refused callback must leave alone."""
    async with api.services.pool.acquire() as conn:
        return {
            "last_seq": await conn.fetchval(
                "SELECT last_seq FROM applications WHERE registration_number = $1", reg
            ),
            "bills": [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT billing_code, status FROM bills WHERE registration_number = $1", reg
                )
            ],
            "payments": await conn.fetchval(
                "SELECT count(*) FROM payments WHERE registration_number = $1", reg
            ),
            "steps": await conn.fetchval(
                "SELECT current_steps FROM applications WHERE registration_number = $1", reg
            ),
        }


async def attempt_outcomes(api: Api) -> list[str]:
    async with api.services.pool.acquire() as conn:
        rows = await conn.fetch("SELECT outcome FROM payment_attempts ORDER BY id")
    return [r["outcome"] for r in rows]
