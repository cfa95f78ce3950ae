"""Schemathesis over the whole OpenAPI: no answer is a 5xx.

The real app behind real uvicorn, on a real PostgreSQL and the time-skipping Temporal
server with a worker; every operation is called anonymously and with a valid token of each
role, with valid (positive) and invalid (negative) data, with generated path parameters and
with real ones (an application that exists, its open step). Bounded to a few thousand
requests (about a minute here); the totals are printed (``-s``)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.harness import Api
from tests.support import eventually

ROLES = {"staff": "rina", "supervisor": "kepala", "admin": "admin", "inspector": "inspektur"}
EXAMPLES = 12  # per operation, role, mode and kind of path: about 3,000 requests in all
SLOW = {"/api/auth/token": 2}  # bcrypt on every attempt


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _probe(
    strategy: Any,
    examples: int,
    session: requests.Session,
    base_url: str,
    headers: dict[str, str],
    role: str,
) -> Any:
    """One Hypothesis test: ``examples`` cases of ``strategy`` sent as ``role``."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def probe(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers)
        probe.statuses[response.status_code] += 1  # type: ignore[attr-defined]
        if response.status_code >= 500:
            probe.failures.append(  # type: ignore[attr-defined]
                f"{role} {case.method} {case.formatted_path}: "
                f"{response.status_code} {response.text[:200]}"
            )

    return probe


def _fuzz(spec: dict[str, Any], base_url: str, tokens: dict[str, str], real: dict[str, str]) -> Any:
    schema = schemathesis.openapi.from_dict(spec)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        path = operation.path
        examples = SLOW.get(path, EXAMPLES)
        names = {p.name for p in operation.path_parameters}
        fixed = {k: v for k, v in real.items() if k in names}
        for role, token in {"anonymous": "", **tokens}.items():
            if path == "/api/auth/logout" and token:
                continue  # it would revoke the token the other probes use
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for params in [None, fixed] if fixed else [None]:
                    strategy = operation.as_strategy(mode, path_parameters=params or None)

                    probe = _probe(strategy, examples, session, base_url, headers, role)
                    probe.statuses, probe.failures = statuses, failures
                    try:
                        probe()
                    except Unsatisfiable:
                        pass  # no invalid data exists for an operation without inputs
                    except Exception as exc:
                        failures.append(f"{role} {operation.label}: {type(exc).__name__} {exc}")
    return statuses, failures


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_no_5xx_anywhere_in_a_fuzz_run(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("kepala", "supervisor", agency="dpmptsp")
    await api.add_user("admin", "admin")
    await api.add_user("inspektur", "inspector")
    tokens = {role: (await api.login(u))["Authorization"][7:] for role, u in ROLES.items()}
    reg = (await api.submit())["registration_number"]

    async def inbox() -> Any:
        return (await api.as_user("rina", "GET", "/api/staff/inbox")).json()

    await eventually(inbox, lambda rows: len(rows) == 1)
    real = {
        "registration_number": reg,
        "step_id": "registration",
        "permit_id": "PBG",
        "username": "rina",
    }
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), bool)
        statuses, failures = await asyncio.to_thread(
            _fuzz, api.app.openapi(), f"http://127.0.0.1:{port}", tokens, real
        )
    finally:
        server.should_exit = True
        await serving
    total = sum(statuses.values())
    print(f"\nfuzz: {total} requests, 5xx: {sum(n for s, n in statuses.items() if s >= 500)}")
    print("by status:", dict(sorted(statuses.items())))
    assert total > 1000, failures[:5]
    assert not failures, "\n".join(failures[:30])
