"""Submissions while Temporal is down (issue 9's fault table), through the real API.

A Temporal dev server of the test's own (on-disk SQLite) is SIGKILLed while submissions
are in flight, stays down while more arrive, and is started again on the same port and
file. While it is down a client gets only 503 ``temporal_unavailable`` with Retry-After
(tracking, which needs only the database, still answers); afterwards each Idempotency-Key
submits exactly once: the same registration number and access code on every retry, one
submission row, one application row and one workflow per key, no workflow without its
registration. The counts are printed (``-s``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.api.harness import running_api
from tests.support import PBG_FORM, eventually
from tests.workflow.test_temporal_outage_dev import connect, dev_server

pytestmark = [pytest.mark.devserver, pytest.mark.slow]

IN_FLIGHT = 4  # sent just before the kill: each answered 201 or 503, never anything else
WHILE_DOWN = 6  # sent while the server is dead: each answered 503
SUBMIT = "/api/public/applications"


async def _submit(http: httpx.AsyncClient, key: str) -> httpx.Response:
    return await http.post(
        SUBMIT, json={"permit_type": "PBG", "form": PBG_FORM}, headers={"Idempotency-Key": key}
    )


def _unavailable(r: httpx.Response) -> bool:
    return (
        r.status_code == 503
        and r.json()["code"] == "temporal_unavailable"
        and int(r.headers["retry-after"]) >= 1
    )


def _submitted(r: httpx.Response) -> tuple[str, str]:
    assert r.status_code == 201, r.text
    body = r.json()
    return body["registration_number"], body["access_code"]


@pytest.mark.timeout(300)
async def test_submissions_during_a_temporal_outage_answer_503_then_submit_once(
    db_dsn: str, task_queue: str
) -> None:
    prefix = uuid.uuid4().hex[:8]
    first, in_flight = f"{prefix}-before", [f"{prefix}-flight-{i}" for i in range(IN_FLIGHT)]
    down = [f"{prefix}-down-{i}" for i in range(WHILE_DOWN)]
    keys = [first, *in_flight, *down]
    answers: Counter[str] = Counter()

    def count(phase: str, r: httpx.Response) -> None:
        code = r.json().get("code", "") if r.status_code >= 400 else ""
        answers[f"{phase} {r.status_code} {code}".strip()] += 1

    async with dev_server("loket-submit-outage-") as server:
        client = await connect(server)
        async with running_api(client, db_dsn, task_queue) as api:
            r = await _submit(api.http, first)
            count("before", r)
            reg0, code0 = _submitted(r)
            pool: asyncpg.Pool = api.services.pool

            async def application_rows() -> list[str]:
                rows = await pool.fetch(
                    "SELECT registration_number FROM applications ORDER BY registration_number"
                )
                return [r["registration_number"] for r in rows]

            # Its workflow has run its first step (the file can be tracked).
            await eventually(application_rows, lambda rows: rows == [reg0])

            # SIGKILL while submissions are on their way.
            flight = [asyncio.create_task(_submit(api.http, k)) for k in in_flight]
            await asyncio.sleep(0.05)
            await server.kill()
            got = dict(zip(in_flight, await asyncio.gather(*flight), strict=True))
            for r in got.values():
                count("in flight", r)
                assert r.status_code == 201 or _unavailable(r), r.text
            early = {k: _submitted(r) for k, r in got.items() if r.status_code == 201}

            # Down: new keys and a retry of one already answered get only 503 with a reason.
            while_down = await asyncio.gather(*(_submit(api.http, k) for k in [*down, first]))
            for r in while_down:
                count("down", r)
                assert _unavailable(r), r.text
            # Tracking needs only the database: it still answers.
            track = await api.http.post(
                f"/api/public/applications/{reg0}/track", json={"access_code": code0}
            )
            count("down track", track)
            assert track.status_code == 200, track.text
            health = await api.http.get("/healthz")
            assert health.status_code == 503 and health.json()["checks"]["temporal"] != "ok"

            await server.start()  # the same port, the same SQLite file

            # Every key submits now; a second retry answers the very same.
            after = {}
            for key in keys:
                r = await _submit(api.http, key)
                count("after", r)
                after[key] = _submitted(r)
            for key in keys:
                r = await _submit(api.http, key)
                count("retry", r)
                assert _submitted(r) == after[key], key
            assert after[first] == (reg0, code0)
            assert all(after[k] == v for k, v in early.items())
            regs = sorted(reg for reg, _ in after.values())
            assert len(set(regs)) == len(keys)  # one registration number per key

            # Each workflow writes its application row once it runs: one row per key.
            assert await eventually(application_rows, lambda rows: rows == regs) == regs
            submissions = await pool.fetch(
                "SELECT idempotency_key, registration_number FROM submissions"
                " ORDER BY registration_number"
            )
            assert [r["registration_number"] for r in submissions] == regs
            assert sorted(r["idempotency_key"] for r in submissions) == sorted(
                f"submit:{k}" for k in keys
            )
            # The access code each client was given opens its file.
            for reg, code in after.values():
                r = await api.http.post(
                    f"/api/public/applications/{reg}/track", json={"access_code": code}
                )
                assert r.status_code == 200, r.text

        # One workflow per registration, none without one (this server is the test's own).
        listed: list[Any] = [w async for w in client.list_workflows()]
        assert sorted(w.id for w in listed) == regs
        assert {w.status for w in listed} == {WorkflowExecutionStatus.RUNNING}

    print(
        f"\nsubmissions during a Temporal outage: {len(keys)} keys ({IN_FLIGHT} in flight at the"
        f" SIGKILL, {WHILE_DOWN} while down); answers {dict(sorted(answers.items()))};"
        f" registrations {len(submissions)}, application rows {len(regs)},"
        f" workflows {len(listed)}"
    )
    assert answers["down 503 temporal_unavailable"] == WHILE_DOWN + 1
    assert answers["after 201"] == answers["retry 201"] == len(keys)
    # Nothing but a 201, a 200 (tracking) or a 503 with its reason, ever.
    assert {a.split()[-2] if a.endswith("unavailable") else a.split()[-1] for a in answers} <= {
        "200",
        "201",
        "503",
    }
