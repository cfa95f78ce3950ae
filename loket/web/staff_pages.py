"""Pages of staff and supervisors: sign-in, the inbox, the task page with claim and decide,
the supervisor's workload with reassignment, and deadline extensions.

Every change goes through the use cases the API calls too (``loket.services.tasks``,
``.supervisor``, ``.deadlines``), which send Workflow Updates; a refusal by the workflow is
shown with its reason on the page it came from, and nothing changes.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from loket.calendar import WorkCalendar
from loket.edge.errors import Invalid
from loket.edge.params import REGISTRATION_PATTERN, RegistrationNumber, StepId
from loket.refusal import Refused
from loket.route.model import IDENT
from loket.services import ServiceError, auth, contacts, deadlines, supervisor, tasks, utcnow
from loket.services.deadlines import ExtendIn
from loket.services.supervisor import ReassignBody
from loket.services.tasks import DecideBody
from loket.web import document_pages
from loket.web import format as fmt
from loket.web.core import (
    SESSION_COOKIE,
    CheckedForm,
    Page,
    PageDep,
    PageRoute,
    SignedInPage,
    StaffPage,
    SupervisorPage,
    TaskReaderPage,
    form_key,
    parse_form,
    safe_next,
)

log = logging.getLogger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Messages after a redirect are chosen from this list, never taken from the URL as text.
DONE_MESSAGES = {
    "claimed": "Task claimed.",
    "decided": "Decision recorded.",
    "extended": "Deadline extended.",
}


_TASK_KEY = re.compile(REGISTRATION_PATTERN[:-1] + "/" + IDENT[1:])


def work_calendar(request: Request, page: Page) -> WorkCalendar:
    """The current calendar's arithmetic, built once per calendar version.

    Working time left is counted with today's calendar: the due instant itself was fixed
    by the workflow with the version it pinned, and only the hours between now and then
    are counted here (a late correction of a holiday counts at once, as it should).
    """
    snapshot = page.services.calendar
    cached: WorkCalendar | None = getattr(request.app.state, "web_calendar", None)
    if cached is None or cached.version != snapshot.version:
        cached = WorkCalendar(snapshot)
        request.app.state.web_calendar = cached
    return cached


def time_left(page: Page, due: datetime | None, now: datetime) -> timedelta | None:
    return fmt.working_left(work_calendar(page.request, page), due, now)


def home_of(role: str) -> str:
    return "/staff/inbox" if role in ("staff", "supervisor") else "/monitor"


# --- signing in and out ------------------------------------------------------------------


@router.get("/login")
async def login_form(page: PageDep, next: str = "") -> Response:
    if page.user is not None:
        return page.redirect(safe_next(next, home_of(page.user.role)))
    return page.render("login.html", next=safe_next(next, ""), username="")


@router.post("/login")
async def login(page: PageDep, form: CheckedForm) -> Response:
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = str(form.get("next") or "")
    try:
        # The API's sign-in: the same brakes (rate, lockout), the same security log.
        user, token = await auth.start_session(page.services, username, password)
    except ServiceError as exc:
        error = page.answer(exc, 401, 422, 429)
        response = page.render(
            "login.html",
            status_code=error.status_code,
            next=safe_next(target, ""),
            username="" if isinstance(error, Invalid) else username,
            error=page.say(error),
        )
        for name, value in (error.headers or {}).items():
            if name != "WWW-Authenticate":
                response.headers[name] = value
        return response
    # A new session (and with it a new CSRF token) at every sign-in: no session fixation.
    page.cookie(SESSION_COOKIE, token, max_age=int(page.services.token_ttl.total_seconds()))
    return page.redirect(safe_next(target, home_of(user.role)))


@router.post("/logout")
async def logout(page: SignedInPage, form: CheckedForm) -> Response:
    if page.session_token:
        await auth.end_session(page.services, page.session_token)
    page.cookie(SESSION_COOKIE, "")
    return page.redirect("/")


# --- the inbox and tasks -----------------------------------------------------------------


@router.get("/staff/inbox")
async def inbox(page: StaffPage, done: str = "", after: str = "") -> Response:
    assert page.user is not None
    # One page (the API's default size); a bad cursor answers the error page (422).
    found = await tasks.user_inbox_page(page.services, page.user, after=after or None)
    now = utcnow()
    return page.render(
        "inbox.html",
        rows=[(r, time_left(page, r.due_at, now)) for r in found.rows],
        next_page=f"/staff/inbox?{urlencode({'after': found.next_after})}"
        if found.next_after
        else "",
        paged=bool(after),
        flash=page.t(DONE_MESSAGES[done]) if done in DONE_MESSAGES else "",
    )


async def _task_page(
    page: Page,
    registration_number: str,
    step_id: str,
    *,
    status_code: int = 200,
    error: str = "",
    flash: str = "",
) -> Response:
    assert page.user is not None
    detail = await tasks.task_detail(page.services, page.user, registration_number, step_id)
    user = page.user
    works = user.role in ("staff", "supervisor")
    task = detail.task
    return page.render(
        "task.html",
        status_code=status_code,
        detail=detail,
        left=time_left(page, task.due_at, utcnow()),
        may_work=works and task.state == "open",
        may_claim=works and task.state == "open" and task.claimed_by != user.username,
        may_extend=user.role == "supervisor"
        and user.agency == task.agency
        and task.state in ("open", "returned"),
        documents=await document_pages.task_documents(page, registration_number),  # 10A
        error=error,
        flash=flash,
        # After task_detail: only someone who may read the task sees its notices.
        deliveries=await contacts.deliveries(page.services, registration_number),
    )


@router.get("/staff/tasks/{registration_number}/{step_id}")
async def task_page(
    page: TaskReaderPage, registration_number: RegistrationNumber, step_id: StepId, done: str = ""
) -> Response:
    flash = page.t(DONE_MESSAGES[done]) if done in DONE_MESSAGES else ""
    return await _task_page(page, registration_number, step_id, flash=flash)


def _task_url(registration_number: RegistrationNumber, step_id: StepId, done: str) -> str:
    return f"/staff/tasks/{registration_number}/{step_id}?done={done}"


@router.post("/staff/tasks/{registration_number}/{step_id}/claim")
async def claim(
    page: StaffPage, form: CheckedForm, registration_number: RegistrationNumber, step_id: StepId
) -> Response:
    assert page.user is not None
    try:
        await tasks.claim_task(
            page.services, page.user, registration_number, step_id, key=form_key(form)
        )
    except (ServiceError, Refused) as exc:
        error = page.answer(exc, 409, 422)
        return await _task_page(
            page, registration_number, step_id, status_code=error.status_code, error=page.say(error)
        )
    return page.redirect(_task_url(registration_number, step_id, "claimed"))


@router.post("/staff/tasks/{registration_number}/{step_id}/decide")
async def decide(
    page: StaffPage, form: CheckedForm, registration_number: RegistrationNumber, step_id: StepId
) -> Response:
    assert page.user is not None
    try:
        body = parse_form(
            DecideBody,
            outcome=str(form.get("outcome") or ""),
            note=str(form.get("note") or ""),
            receipt_number=str(form.get("receipt_number") or "").strip() or None,
            **document_pages.decision_documents(form),  # 10A: verdicts, corrections
        )
        await tasks.decide_task(
            page.services,
            page.user,
            registration_number,
            step_id,
            body.outcome,
            body.note,
            key=form_key(form),
            receipt_number=body.receipt_number,
            verdicts=body.verdicts,
            corrections=body.corrections,
        )
    except (ServiceError, Refused) as exc:
        # The workflow refused (wrong step, already decided, claimed by someone else...):
        # its reason is shown and nothing has changed.
        error = page.answer(exc, 409, 422)
        return await _task_page(
            page, registration_number, step_id, status_code=error.status_code, error=page.say(error)
        )
    return page.redirect("/staff/inbox?done=decided")


@router.post("/supervisor/tasks/{registration_number}/{step_id}/extend")
async def extend(
    page: SupervisorPage,
    form: CheckedForm,
    registration_number: RegistrationNumber,
    step_id: StepId,
) -> Response:
    assert page.user is not None
    try:
        body = parse_form(
            ExtendIn,
            extra=str(form.get("extra") or "").strip(),
            reason=str(form.get("reason") or ""),
        )
        # The extension endpoint's own use case: one implementation of the rule.
        await deadlines.extend_deadline(
            page.services, page.user, registration_number, step_id, body, key=form_key(form)
        )
    except (ServiceError, Refused) as exc:
        error = page.answer(exc, 409, 422)
        return await _task_page(
            page, registration_number, step_id, status_code=error.status_code, error=page.say(error)
        )
    return page.redirect(_task_url(registration_number, step_id, "extended"))


# --- the supervisor's workload -----------------------------------------------------------


async def _workload_page(
    page: Page, *, status_code: int = 200, results: list[tuple[str, str, bool]] | None = None
) -> Response:
    assert page.user is not None
    load = await supervisor.workload(page.services, page.user)
    now = utcnow()
    return page.render(
        "workload.html",
        status_code=status_code,
        load=load,
        left={
            (t.registration_number, t.step_id): time_left(page, t.due_at, now)
            for g in load.groups
            for t in g.tasks
        },
        results=results or [],
    )


@router.get("/supervisor")
async def workload(page: SupervisorPage) -> Response:
    return await _workload_page(page)


@router.post("/supervisor/reassign")
async def reassign(page: SupervisorPage, form: CheckedForm) -> Response:
    assert page.user is not None
    body = parse_form(
        ReassignBody,
        to=str(form.get("to") or "") or None,
        reason=str(form.get("reason") or ""),
    )
    nonce = form_key(form)
    selected = [v for v in form.getlist("task") if isinstance(v, str) and _TASK_KEY.match(v)]
    results: list[tuple[str, str, bool]] = []
    for key in selected:
        reg, _, step_id = key.partition("/")
        try:
            await supervisor.reassign_task(
                page.services,
                page.user,
                reg,
                step_id,
                body.to,
                body.reason,
                # One form, several tasks: each its own Update, each acting once.
                key=f"{nonce}.{step_id}",
            )
            results.append((key, page.t("reassigned"), True))
        except (ServiceError, Refused) as exc:  # each task answers for itself
            results.append((key, page.say(page.answer(exc, 403, 404, 409, 422, 429, 503)), False))
    if not selected:
        results.append(("-", page.t("Select at least one task."), False))
    failed = any(not ok for _, _, ok in results)
    return await _workload_page(page, status_code=409 if failed else 200, results=results)
