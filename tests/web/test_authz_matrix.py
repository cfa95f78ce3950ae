"""Who may reach what: every role against every page and API route of the app.

The routes are enumerated from ``app.routes``: a route added without an entry in
:data:`MATRIX` (or an entry whose route is gone) fails the test, so nobody forgets to
decide who may call it. Each probe is harmless (a refused outcome, a blank reason, a wrong
password): an allowed role gets past authorization and answers 2xx, 3xx elsewhere, 409 or
422; a role that must not reach the route is stopped with 401/403, a redirect to the
sign-in form, or 404 where the answer must not reveal that something exists (tracking with
a wrong access code).

Pages authenticate by session cookie (with a CSRF token on every POST), the JSON API by
bearer token only; the last tests check that neither credential opens the other door.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from loket.case.survey import ELEMENTS
from tests.api.harness import Api, idempotent
from tests.support import eventually
from tests.web.support import Browser

ANON, APPLICANT, STAFF, SUPERVISOR, ADMIN, INSPECTOR = (
    "anonymous",
    "applicant",
    "staff",
    "supervisor",
    "admin",
    "inspector",
)
# Cross-agency probes: staff of another counter of the same agency and the supervisor of
# another agency may use their own inbox and workload, but a task that is not theirs must
# answer exactly like one that does not exist.
OTHER_STAFF, OTHER_SUPERVISOR = "staff_elsewhere", "supervisor_elsewhere"
AS_ROLE = {OTHER_STAFF: "staff", OTHER_SUPERVISOR: "supervisor"}
EVERYONE = frozenset({ANON, APPLICANT, STAFF, SUPERVISOR, ADMIN, INSPECTOR})
PROBED = EVERYONE | {OTHER_STAFF, OTHER_SUPERVISOR}
SIGNED_IN = frozenset({STAFF, SUPERVISOR, ADMIN, INSPECTOR})
WORKERS = frozenset({STAFF, SUPERVISOR})
TASK_READERS = frozenset({STAFF, SUPERVISOR, ADMIN, INSPECTOR})
AUDITORS = frozenset({ADMIN, INSPECTOR})
USERNAMES = {
    STAFF: "rina",
    SUPERVISOR: "kepala",
    ADMIN: "admin",
    INSPECTOR: "inspektur",
    OTHER_STAFF: "gita",
    OTHER_SUPERVISOR: "kabid_dlh",
}


@dataclass(frozen=True)
class Ctx:
    reg: str
    code: str
    role: str

    def code_for_role(self) -> str:
        """Only the applicant knows the code; everyone else tries a wrong one."""
        return self.code if self.role == APPLICANT else "not-the-code"


Body = Callable[[Ctx], dict[str, Any] | None]


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    kind: str = "api"  # api: JSON body, bearer token; page: form body, session + CSRF
    body: Body = lambda ctx: None
    form: bool = False  # API route taking a form (OAuth2 token endpoint)
    denial: frozenset[int] = frozenset({401, 403, 404})
    headers: Callable[[Ctx], dict[str, str]] = lambda ctx: {}


# Public routes whose probe names nothing that exists: their 404 is the answer, not a denial.
NOT_SIGNED = frozenset({401, 403})


def page(allowed: frozenset[str], body: Body = lambda ctx: {}, **kw: Any) -> Rule:
    return Rule(allowed, kind="page", body=body, **kw)


TASK = "/{registration_number}/{step_id}"
RATINGS = dict.fromkeys(ELEMENTS, 3)  # a valid survey answer: the access code decides
MATRIX: dict[tuple[str, str], Rule] = {
    # --- API: public, no sign-in ------------------------------------------------------------
    ("GET", "/healthz"): Rule(EVERYONE),
    ("GET", "/openapi.json"): Rule(EVERYONE),
    ("GET", "/docs"): Rule(EVERYONE),
    ("GET", "/docs/oauth2-redirect"): Rule(EVERYONE),
    ("GET", "/redoc"): Rule(EVERYONE),
    ("GET", "/api/public/permits"): Rule(EVERYONE),
    ("GET", "/api/public/permits/{permit_id}"): Rule(EVERYONE),
    ("POST", "/api/public/permits/{permit_id}/fees/preview"): Rule(
        EVERYONE, body=lambda c: {"form": {"building_use": "usaha", "building_area_m2": 100.0}}
    ),
    ("POST", "/api/public/applications"): Rule(
        EVERYONE, body=lambda c: {"permit_type": "PBG", "form": {}}
    ),
    ("POST", "/api/public/applications/{registration_number}/track"): Rule(
        frozenset({APPLICANT}), body=lambda c: {"access_code": c.code_for_role()}
    ),
    ("POST", "/api/public/applications/{registration_number}/resubmit"): Rule(
        frozenset({APPLICANT}), body=lambda c: {"access_code": c.code_for_role()}
    ),
    # published performance, open data, the satisfaction survey (the code is the key)
    ("GET", "/api/public/performance"): Rule(EVERYONE),
    ("GET", "/data.json"): Rule(EVERYONE),
    ("GET", "/open-data/{year}/{filename}"): Rule(EVERYONE),
    ("POST", "/api/public/applications/{registration_number}/survey/offer"): Rule(
        frozenset({APPLICANT}), body=lambda c: {"access_code": c.code_for_role()}
    ),
    ("POST", "/api/public/applications/{registration_number}/survey"): Rule(
        frozenset({APPLICANT}), body=lambda c: {"access_code": c.code_for_role(), **RATINGS}
    ),
    # Documents (10A): a probe without a file is refused (422) only once past the code.
    ("POST", "/api/public/applications/{registration_number}/documents"): Rule(
        frozenset({APPLICANT}), body=lambda c: {"access_code": c.code_for_role()}
    ),
    ("POST", "/api/public/applications/{registration_number}/documents/{slot}"): Rule(
        frozenset({APPLICANT}), headers=lambda c: {"X-Access-Code": c.code_for_role()}
    ),
    (
        "POST",
        "/api/public/applications/{registration_number}/documents/{slot}/{version}/download",
    ): Rule(frozenset({APPLICANT}), body=lambda c: {"access_code": c.code_for_role()}),
    ("GET", "/api/staff/applications/{registration_number}/documents"): Rule(TASK_READERS),
    ("GET", "/api/staff/applications/{registration_number}/documents/{slot}/{version}"): Rule(
        TASK_READERS
    ),
    ("POST", "/api/staff/applications/{registration_number}/documents/{slot}"): Rule(WORKERS),
    # --- API: auth --------------------------------------------------------------------------
    ("POST", "/api/auth/token"): Rule(EVERYONE, form=True, body=lambda c: {}),
    ("POST", "/api/auth/logout"): Rule(SIGNED_IN),
    ("GET", "/api/auth/me"): Rule(SIGNED_IN),
    # --- API: staff, supervisors, administrators, inspectorate -------------------------------
    ("GET", "/api/staff/inbox"): Rule(WORKERS),
    ("GET", "/api/staff/tasks" + TASK): Rule(TASK_READERS),
    ("POST", "/api/staff/tasks" + TASK + "/claim"): Rule(WORKERS),
    ("POST", "/api/staff/tasks" + TASK + "/decide"): Rule(
        WORKERS, body=lambda c: {"outcome": "no_such_outcome"}
    ),
    ("GET", "/api/supervisor/tasks"): Rule(frozenset({SUPERVISOR})),
    ("POST", "/api/supervisor/tasks" + TASK + "/reassign"): Rule(
        frozenset({SUPERVISOR}), body=lambda c: {"to": "no-such-user"}
    ),
    ("POST", "/api/supervisor/tasks" + TASK + "/extend"): Rule(
        frozenset({SUPERVISOR}), body=lambda c: {"extra": "soon", "reason": "matrix probe"}
    ),
    ("POST", "/api/admin/applications/{registration_number}/cancel"): Rule(
        frozenset({ADMIN}), body=lambda c: {"reason": ""}
    ),
    ("POST", "/api/admin/applications/{registration_number}/recompute-deadlines"): Rule(
        frozenset({ADMIN}), body=lambda c: {"reason": ""}
    ),
    ("GET", "/api/admin/applications/{registration_number}/audit"): Rule(AUDITORS),
    ("GET", "/api/admin/monitoring/stalled"): Rule(AUDITORS),
    ("GET", "/api/admin/monitoring/sla"): Rule(AUDITORS),
    ("GET", "/api/admin/monitoring/applications/{registration_number}/escalations"): Rule(AUDITORS),
    ("GET", "/api/admin/monitoring/security/applications/{registration_number}"): Rule(AUDITORS),
    ("GET", "/api/admin/monitoring/security/users/{username}"): Rule(AUDITORS),
    # --- API: payment callbacks: only the bank's signature opens it, never a user's token ---
    ("POST", "/api/payments/callback/{bank}"): Rule(
        frozenset(), body=lambda c: {"transaction_id": "TX-1"}
    ),
    # --- API: issued permits (issue 10 §2); the probed number is not issued: 404 to all ------
    ("GET", "/api/public/issued-permits/{number:path}"): Rule(EVERYONE, denial=NOT_SIGNED),
    ("POST", "/api/public/issued-permits/{number:path}/check"): Rule(EVERYONE, denial=NOT_SIGNED),
    ("POST", "/api/public/applications/{registration_number}/permit"): Rule(
        frozenset({APPLICANT}), body=lambda c: {"access_code": c.code_for_role()}
    ),
    ("POST", "/api/admin/issued-permits/{number:path}/revoke"): Rule(
        frozenset({ADMIN}), body=lambda c: {"reason": ""}
    ),
    # --- pages: public ----------------------------------------------------------------------
    ("GET", "/static"): page(EVERYONE),
    ("GET", "/"): page(EVERYONE),
    ("GET", "/permits/{permit_id}"): page(EVERYONE),
    ("GET", "/permits/{permit_id}/route.svg"): page(EVERYONE),
    ("GET", "/permits/{permit_id}/simulate"): page(EVERYONE),
    ("POST", "/permits/{permit_id}/simulate"): page(EVERYONE),
    ("GET", "/permits/{permit_id}/apply"): page(EVERYONE),
    ("POST", "/permits/{permit_id}/apply"): page(EVERYONE),
    ("GET", "/track"): page(EVERYONE),
    ("POST", "/track"): page(
        frozenset({APPLICANT}),
        body=lambda c: {"registration_number": c.reg, "access_code": c.code_for_role()},
    ),
    ("POST", "/track/resubmit"): page(
        frozenset({APPLICANT}),
        body=lambda c: {"registration_number": c.reg, "access_code": c.code_for_role()},
    ),
    ("POST", "/track/documents/{slot}"): page(
        frozenset({APPLICANT}),
        body=lambda c: {"registration_number": c.reg, "access_code": c.code_for_role()},
    ),
    ("POST", "/track/documents/{slot}/{version}/download"): page(
        frozenset({APPLICANT}),
        body=lambda c: {"registration_number": c.reg, "access_code": c.code_for_role()},
    ),
    ("POST", "/lang"): page(EVERYONE, body=lambda c: {"lang": "id", "next": "/"}),
    ("GET", "/kinerja"): page(EVERYONE),
    ("POST", "/survey/start"): page(
        frozenset({APPLICANT}),
        body=lambda c: {"registration_number": c.reg, "access_code": c.code_for_role()},
    ),
    ("POST", "/survey"): page(
        frozenset({APPLICANT}),
        body=lambda c: {"registration_number": c.reg, "access_code": c.code_for_role(), **RATINGS},
    ),
    ("GET", "/login"): page(EVERYONE),
    ("GET", "/verify/{number:path}"): page(EVERYONE, denial=NOT_SIGNED),
    ("POST", "/verify/{number:path}"): page(EVERYONE, denial=NOT_SIGNED),
    ("POST", "/track/permit"): page(
        frozenset({APPLICANT}),
        body=lambda c: {"registration_number": c.reg, "access_code": c.code_for_role()},
    ),
    # A wrong password answers 401 to everyone: that is the form working, not a denial.
    ("POST", "/login"): page(
        EVERYONE,
        body=lambda c: {"username": "nobody", "password": "wrong-password"},
        denial=frozenset({403}),
    ),
    ("POST", "/logout"): page(SIGNED_IN),
    # --- pages: staff and supervisors -------------------------------------------------------
    ("GET", "/staff/inbox"): page(WORKERS),
    ("GET", "/staff/tasks" + TASK): page(TASK_READERS),
    ("POST", "/staff/tasks" + TASK + "/claim"): page(WORKERS),
    ("POST", "/staff/tasks" + TASK + "/decide"): page(
        WORKERS, body=lambda c: {"outcome": "no_such_outcome"}
    ),
    ("POST", "/staff/applications/{registration_number}/documents/{slot}"): page(WORKERS),
    ("GET", "/staff/applications/{registration_number}/documents/{slot}/{version}"): page(
        TASK_READERS
    ),
    ("GET", "/supervisor"): page(frozenset({SUPERVISOR})),
    ("POST", "/supervisor/reassign"): page(frozenset({SUPERVISOR})),
    ("POST", "/supervisor/tasks" + TASK + "/extend"): page(
        frozenset({SUPERVISOR}), body=lambda c: {"extra": "soon", "reason": "matrix probe"}
    ),
    # --- pages: administrators and inspectorate ---------------------------------------------
    ("GET", "/monitor"): page(AUDITORS),
    ("GET", "/monitor/sla"): page(AUDITORS),
    ("GET", "/applications"): page(AUDITORS),
    ("GET", "/applications/{registration_number}"): page(AUDITORS),
    ("POST", "/applications/{registration_number}/cancel"): page(
        frozenset({ADMIN}), body=lambda c: {"reason": ""}
    ),
    ("POST", "/applications/{registration_number}/recompute"): page(
        frozenset({ADMIN}), body=lambda c: {"reason": ""}
    ),
    # --- complaints and supervision of deemed approvals (issue 12b) -------------------------
    # The probe's file is a permit, not a complaint, and no step of it was deemed approved:
    # every role is answered "not there" (its own code included). The allowed paths are
    # tests/api/test_complaints_api.py and tests/api/test_supervision_api.py.
    ("POST", "/api/public/complaints"): Rule(EVERYONE, body=lambda c: {"form": {}}),
    ("POST", "/api/public/complaints/{tracking_number}/track"): Rule(
        frozenset(), body=lambda c: {"access_code": c.code_for_role()}
    ),
    ("POST", "/api/public/complaints/{tracking_number}/reopen"): Rule(
        frozenset(), body=lambda c: {"access_code": c.code_for_role()}
    ),
    ("GET", "/api/supervision"): Rule(WORKERS),
    ("POST", "/api/supervision" + TASK + "/close"): Rule(
        frozenset(), body=lambda c: {"note": "matrix probe"}
    ),
    ("GET", "/pengaduan"): page(EVERYONE),
    ("POST", "/pengaduan"): page(EVERYONE),
    ("GET", "/pengaduan/lacak"): page(EVERYONE),
    ("POST", "/pengaduan/lacak"): page(
        frozenset(),
        body=lambda c: {"tracking_number": c.reg, "access_code": c.code_for_role()},
    ),
    ("POST", "/pengaduan/lacak/reopen"): page(
        frozenset(),
        body=lambda c: {"tracking_number": c.reg, "access_code": c.code_for_role()},
    ),
    ("GET", "/staff/supervision"): page(WORKERS),
    ("POST", "/staff/supervision" + TASK + "/close"): page(
        frozenset(), body=lambda c: {"note": "matrix probe"}
    ),
    ("GET", "/admin/payments"): page(AUDITORS),
    ("POST", "/admin/payments/reconcile"): page(AUDITORS, body=lambda c: {"bank": "demo"}),
    # --- applicant notifications (issue 11): recovery is public and answers alike ------------
    ("POST", "/api/public/applications/{registration_number}/access-code/recover"): Rule(EVERYONE),
    ("GET", "/api/staff/applications/{registration_number}/notifications"): Rule(AUDITORS),
    ("GET", "/track/recover"): page(EVERYONE),
    ("POST", "/track/recover"): page(EVERYONE, body=lambda c: {"registration_number": c.reg}),
}


def app_routes(api: Api) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, included routers flattened."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(api.app.routes):
        if isinstance(route.original_route, Mount):
            found.add(("GET", str(route.path)))
        else:
            found |= {(m, str(route.path)) for m in (route.methods or ()) if m != "HEAD"}
    return found


def url_of(path: str, reg: str) -> str:
    if path == "/static":
        return "/static/app.css"
    return (
        path.replace("{permit_id}", "PBG")
        .replace("{registration_number}", reg)
        .replace("{tracking_number}", reg)
        .replace("{step_id}", "registration")
        .replace("{username}", "rina")
        .replace("{year}", "2026")
        .replace("{filename}", "kinerja-bulanan.csv")
        .replace("{bank}", "demo")
        .replace("{slot}", "identity")
        .replace("{version}", "1")
        .replace("{number:path}", "503/0001/PBG/DPMPTSP/2026")
    )


def allowed(rule: Rule, path: str, role: str) -> bool:
    """The matrix's verdict; the cross-agency roles are their role minus the task."""
    if role in AS_ROLE:
        # A task, or an application's documents: not theirs, answered as not there.
        scoped = "{step_id}" in path or "/documents" in path
        return AS_ROLE[role] in rule.allowed and not scoped
    return role in rule.allowed


def denied(rule: Rule, r: httpx.Response) -> bool:
    if r.status_code == 303 and r.headers["location"].startswith("/login"):
        return True
    return r.status_code in rule.denial


async def _setup(api: Api) -> tuple[str, str]:
    await api.add_user(USERNAMES[STAFF], "staff", "dpmptsp/front_office")
    await api.add_user(USERNAMES[SUPERVISOR], "supervisor", agency="dpmptsp")
    await api.add_user(USERNAMES[ADMIN], "admin")
    await api.add_user(USERNAMES[INSPECTOR], "inspector")
    await api.add_user(USERNAMES[OTHER_STAFF], "staff", "dpmptsp/issuance")
    await api.add_user(USERNAMES[OTHER_SUPERVISOR], "supervisor", agency="dlh")
    done = await api.submit()
    reg = done["registration_number"]

    async def opened() -> int:
        async with api.services.pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE registration_number = $1", reg
                )
            )

    await eventually(opened, lambda n: n == 1)
    # One document, so that its downloads have something to answer (10A).
    r = await api.http.post(
        f"/api/public/applications/{reg}/documents/identity",
        files={"file": ("ktp.pdf", b"%PDF-1.4 matrix", "application/pdf")},
        headers={"X-Access-Code": done["access_code"], **idempotent()},
    )
    assert r.status_code == 201, r.text
    return reg, done["access_code"]


async def _call(
    api: Api, browsers: dict[str, Browser], role: str, method: str, path: str, ctx: Ctx
) -> httpx.Response:
    rule = MATRIX[(method, path)]
    url = url_of(path, ctx.reg)
    body = rule.body(ctx)
    if rule.kind == "page":
        browser = browsers[role]
        if method == "GET":
            return await browser.http.get(url)
        return await browser.post(url, body or {})
    headers = rule.headers(ctx)
    if role in USERNAMES:
        if path == "/api/auth/logout":  # a token of its own: logging out revokes it
            api.tokens.pop(USERNAMES[role], None)
        headers = {**headers, **await api.login(USERNAMES[role])}
    if method == "POST" and not rule.form:
        headers = {**headers, **idempotent()}
    if rule.form:
        return await api.http.request(method, url, data=body, headers=headers)
    return await api.http.request(method, url, json=body, headers=headers)


async def test_every_route_has_a_rule(api: Api) -> None:
    routes = app_routes(api)
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"routes without an authorization rule: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


async def test_no_role_reaches_what_it_must_not(api: Api) -> None:
    reg, code = await _setup(api)
    browsers: dict[str, Browser] = {}
    for role in PROBED:
        browsers[role] = Browser.open(api)
        if role in USERNAMES:
            await browsers[role].sign_in(USERNAMES[role])
        else:
            await browsers[role].get("/")
    # Logging out ends the session or token: those probes go last.
    order = sorted(app_routes(api), key=lambda k: (k[1] in ("/logout", "/api/auth/logout"), k))
    wrong: list[str] = []
    try:
        for method, path in order:
            rule = MATRIX[(method, path)]
            for role in sorted(PROBED):
                r = await _call(api, browsers, role, method, path, Ctx(reg, code, role))
                if r.status_code >= 500:
                    wrong.append(f"{role} {method} {path}: server error {r.status_code}")
                elif denied(rule, r) == allowed(rule, path, role):
                    verdict = "denied" if denied(rule, r) else "let through"
                    wrong.append(f"{role} {method} {path}: {verdict} ({r.status_code})")
    finally:
        for browser in browsers.values():
            await browser.close()
    assert not wrong, "\n".join(wrong)


async def test_the_api_ignores_session_cookies_and_pages_ignore_bearer_tokens(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    browser = Browser.open(api)
    await browser.sign_in("rina")
    assert (await browser.http.get("/staff/inbox")).status_code == 200
    # The session cookie is no API credential: the JSON API cannot be driven by a forged
    # cross-site request riding on the cookie, so it needs no CSRF token.
    assert (await browser.http.get("/api/staff/inbox")).status_code == 401
    headers = await api.login("rina")
    r = await api.http.get("/staff/inbox", headers=headers)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # Signing out ends the session on the server, not only in this browser.
    cookie = browser.http.cookies.get("loket_session")
    assert (await browser.post("/logout")).status_code == 303
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url=str(browser.http.base_url),
        cookies={"loket_session": cookie or ""},
    )
    r = await other.get("/staff/inbox")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await other.aclose()
    await browser.close()


async def test_session_cookie_flags(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    browser = Browser.open(api)
    await browser.get("/login")
    r = await browser.post("/login", {"username": "rina", "password": "rahasia-loket-1"})
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "session" in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in tests; https (or always) adds Secure
    await browser.close()
    secure = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="https://loket.test"
    )
    b = Browser(api, secure)
    await b.get("/login")
    r = await b.post("/login", {"username": "rina", "password": "rahasia-loket-1"})
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "session" in v)
    assert "Secure" in cookie
    await secure.aclose()
