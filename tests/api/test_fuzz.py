"""Schemathesis over the whole OpenAPI: no answer is a 5xx.

The real app behind real uvicorn, on a real PostgreSQL and the time-skipping Temporal
server with a worker; every operation is called anonymously and with a valid token of each
role, with valid (positive) and invalid (negative) data, with generated path parameters and
with real ones (an application that exists, its open step). Bounded to a few thousand
requests (about a minute here); the totals are printed (``-s``).

A second run is stateful: OpenAPI links added to the schema (here, not in the app) feed a
submission's registration number and access code into tracking, resubmission and the
staff, supervisor and administrator routes, and the inbox's rows into the task routes;
schemathesis's state machine follows them as each role in turn."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode

from tests.api.harness import Api
from tests.support import PBG_FORM, eventually

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
        try:
            response = case.call(base_url=base_url, session=session, headers=headers)
        except requests.exceptions.ConnectionError as exc:
            # A connection the server closed (e.g. after refusing an oversized body): ask
            # once more on a fresh one; twice in a row is a failure, never hidden.
            session.close()
            try:
                response = case.call(base_url=base_url, session=session, headers=headers)
            except requests.exceptions.ConnectionError:
                probe.failures.append(  # type: ignore[attr-defined]
                    f"{role} {case.method} {case.formatted_path}: connection lost twice: {exc}"
                )
                return
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

                    failure = _run_probe(
                        functools.partial(
                            _probe, strategy, examples, session, base_url, headers, role
                        ),
                        statuses,
                        failures,
                    )
                    if failure is not None:
                        failures.append(f"{role} {operation.label}: {failure}")
    return statuses, failures


def _run_probe(make: Callable[[], Any], statuses: Counter[int], failures: list[str]) -> str | None:
    """Run a probe; what it raised, if it raised twice in a row.

    A 5xx never raises: the probe records it in ``failures``. What raises is the tooling
    (schemathesis, Hypothesis); CPython 3.11's ast module can raise a spurious SystemError
    ("AST constructor recursion depth mismatch") when two threads parse at once, and
    Hypothesis reports that as Flaky. Such a probe runs once more; twice is a failure.
    """
    error = ""
    for _ in range(2):
        probe = make()
        probe.statuses, probe.failures = statuses, failures
        try:
            probe()
            return None
        except Unsatisfiable:
            return None  # no invalid data exists for an operation without inputs
        except Exception as exc:
            inner = getattr(exc, "exceptions", ())  # a Flaky group: say what it held
            error = f"{type(exc).__name__} {exc} " + "; ".join(
                f"{type(e).__name__}: {e}" for e in inner
            )
    return error


@contextlib.asynccontextmanager
async def _serving(api: Api) -> AsyncIterator[str]:
    """The app behind real uvicorn on a loopback port; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), bool)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def _users(api: Api) -> dict[str, str]:
    """A user of each role; their bearer tokens by role."""
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("kepala", "supervisor", agency="dpmptsp")
    await api.add_user("admin", "admin")
    await api.add_user("inspektur", "inspector")
    return {role: (await api.login(u))["Authorization"][7:] for role, u in ROLES.items()}


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_no_5xx_anywhere_in_a_fuzz_run(api: Api) -> None:
    tokens = await _users(api)
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
    async with _serving(api) as base_url:
        statuses, failures = await asyncio.to_thread(
            _fuzz, api.app.openapi(), base_url, tokens, real
        )
    total = sum(statuses.values())
    print(f"\nfuzz: {total} requests, 5xx: {sum(n for s, n in statuses.items() if s >= 500)}")
    print("by status:", dict(sorted(statuses.items())))
    assert total > 1000, failures[:5]
    assert not failures, "\n".join(failures[:30])


# --- stateful: links from a submission to everything that takes its number -------------

SUBMIT = ("post", "/api/public/applications")
INBOX = ("get", "/api/staff/inbox")
STATEFUL_EXAMPLES = 20  # scenarios per role
STATEFUL_STEPS = 12  # calls per scenario at most: about 1,300 requests in all
RUNS_PER_ROLE = 3  # a role's run again when Hypothesis stops it as flaky, at most this often
VALID_EVERY = 2  # one submission in this many sends a valid form (the rest are fuzzed)
_NUMBER = "$response.body#/registration_number"
_CODE = "$response.body#/access_code"


def _operation_ids(spec: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (method, path): op["operationId"]
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }


def with_links(spec: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The app's OpenAPI with links: the submission's 201 feeds its registration number (and
    access code, where the body needs it) to every operation with that path parameter,
    with the first step's id; the inbox's 200 feeds its first row to the task routes.
    Returns the schema and the number of links."""
    spec = copy.deepcopy(spec)
    ids = _operation_ids(spec)
    submitted: dict[str, Any] = {}
    from_inbox: dict[str, Any] = {}
    for (method, path), op_id in ids.items():
        names = {p["name"] for p in spec["paths"][path][method].get("parameters", [])}
        if "registration_number" not in names:
            continue
        link: dict[str, Any] = {
            "operationId": op_id,
            "parameters": {"registration_number": _NUMBER},
        }
        if "step_id" in names:
            link["parameters"]["step_id"] = "registration"
        if path.startswith("/api/public/applications/"):
            link["requestBody"] = {"access_code": _CODE}
        submitted[op_id] = link
        if "step_id" in names:
            from_inbox[op_id] = {
                "operationId": op_id,
                "parameters": {
                    "registration_number": "$response.body#/0/registration_number",
                    "step_id": "$response.body#/0/step_id",
                },
            }
    spec["paths"][SUBMIT[1]][SUBMIT[0]]["responses"]["201"]["links"] = submitted
    spec["paths"][INBOX[1]][INBOX[0]]["responses"]["200"]["links"] = from_inbox
    return spec, len(submitted) + len(from_inbox)


class _Tally:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.registered: set[str] = set()
        self.on_real: Counter[str] = Counter()  # requests naming a number a submission answered
        self.submissions = 0
        self.interrupted = 0  # runs Hypothesis stopped as flaky (see _stateful)


def _machine(schema: Any, role: str, headers: dict[str, str], base_url: str, tally: _Tally) -> Any:
    """Schemathesis's state machine over the linked schema, calling as ``role``; it only
    counts answers (no schema conformance checks) and keeps the 5xx."""
    session = requests.Session()

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            if (case.method.lower(), case.path) != SUBMIT:
                return
            tally.submissions += 1
            if tally.submissions % VALID_EVERY == 0:
                # A valid form now and then, or no link would ever be followed.
                case.body = {"permit_type": "PBG", "form": dict(PBG_FORM)}
                case.headers = {**(case.headers or {}), "Idempotency-Key": uuid.uuid4().hex}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base_url, "session": session, "headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            status = response.status_code
            tally.statuses[status] += 1
            if status == 201 and (case.method.lower(), case.path) == SUBMIT:
                tally.registered.add(response.json()["registration_number"])
            number = (case.path_parameters or {}).get("registration_number")
            if number in tally.registered:
                tally.on_real[case.path] += 1
            if status >= 500:
                tally.failures.append(
                    f"{role} {case.method} {case.formatted_path}: {status} {response.text[:200]}"
                )

    return Machine


def _stateful(spec: dict[str, Any], base_url: str, tokens: dict[str, str]) -> _Tally:
    schema = schemathesis.openapi.from_dict(spec)
    tally = _Tally()
    for role, token in {"anonymous": "", **tokens}.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for _ in range(RUNS_PER_ROLE):
            try:
                _machine(schema, role, headers, base_url, tally).run(
                    settings=settings(
                        max_examples=STATEFUL_EXAMPLES,
                        stateful_step_count=STATEFUL_STEPS,
                        deadline=None,
                        database=None,
                        phases=[Phase.generate],
                        suppress_health_check=list(HealthCheck),
                    )
                )
                break
            except Flaky:
                # Which links can be followed depends on the server's answers, so Hypothesis
                # may meet a different choice where it expected a known one and stop; the
                # requests made so far are counted (a 5xx is kept, never raised). As in
                # schemathesis's own runner: not a failure, run this role again.
                tally.interrupted += 1
    return tally


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_no_5xx_along_stateful_links_from_a_submission(api: Api) -> None:
    tokens = await _users(api)
    spec, links = with_links(api.app.openapi())
    async with _serving(api) as base_url:
        tally = await asyncio.to_thread(_stateful, spec, base_url, tokens)
    total = sum(tally.statuses.values())
    linked = sum(tally.on_real.values())
    print(
        f"\nstateful fuzz: {links} links, {total} requests, {len(tally.registered)} applications"
        f" submitted, {linked} requests on them over {len(tally.on_real)} routes,"
        f" 5xx: {sum(n for s, n in tally.statuses.items() if s >= 500)}"
        f" (runs stopped as flaky and run again: {tally.interrupted})"
    )
    print("by status:", dict(sorted(tally.statuses.items())))
    print("on real applications:", dict(sorted(tally.on_real.items())))
    assert not tally.failures, "\n".join(tally.failures[:30])
    assert tally.registered, "no submission went through: the links were never followed"
    # Submitted numbers were fed on (which routes varies from run to run: printed above).
    assert tally.on_real, "no request named a submitted application"
