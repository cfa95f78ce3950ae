"""A page form submitted twice acts once: each rendered form carries a nonce that becomes
the Update ID, so a double click or a resent form is answered with the first result."""

from __future__ import annotations

import re

from tests.api.harness import Api
from tests.support import eventually
from tests.web.support import Browser

_NONCE = re.compile(r'name="idempotency_key" value="([^"]+)"')


def nonces(html: str) -> list[str]:
    return _NONCE.findall(html)


async def _count(api: Api, reg: str, event: str) -> int:
    async with api.services.pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM audit_events WHERE registration_number = $1 AND event = $2",
                reg,
                event,
            )
        )


async def test_a_double_submitted_form_acts_once(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("kepala", "supervisor", agency="dpmptsp")
    reg = (await api.submit())["registration_number"]

    async def opened() -> int:
        async with api.services.pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE registration_number = $1", reg
                )
            )

    await eventually(opened, lambda n: n == 1)
    task = f"/staff/tasks/{reg}/registration"

    supervisor = Browser.open(api)
    await supervisor.sign_in("kepala")
    page = await supervisor.get(task)
    keys = nonces(page.text)
    assert len(keys) == len(set(keys)) >= 3  # claim, decide, extend: one nonce each
    extend = {"extra": "2d", "reason": "menunggu surat desa", "idempotency_key": keys[-1]}
    first = await supervisor.post(f"/supervisor/tasks/{reg}/registration/extend", extend)
    second = await supervisor.post(f"/supervisor/tasks/{reg}/registration/extend", extend)
    assert first.status_code == second.status_code == 303
    assert await _count(api, reg, "deadline_extended") == 1
    # The same form rendered again is a new request: it extends again.
    again = nonces((await supervisor.get(task)).text)[-1]
    r = await supervisor.post(
        f"/supervisor/tasks/{reg}/registration/extend", {**extend, "idempotency_key": again}
    )
    assert r.status_code == 303
    assert await _count(api, reg, "deadline_extended") == 2

    staff = Browser.open(api)
    await staff.sign_in("rina")
    key = nonces((await staff.get(task)).text)[1]  # the decide form's
    decide = {"outcome": "approve", "note": "lengkap", "idempotency_key": key}
    first = await staff.post(f"{task}/decide", decide)
    second = await staff.post(f"{task}/decide", decide)
    assert first.status_code == second.status_code == 303
    assert await _count(api, reg, "step_decided") == 1
    await staff.close()
    await supervisor.close()
