"""Deadlines changed by people: a supervisor's extension, an administrator's recompute
with the current calendar version. Both are Workflow Updates, audited with the reason."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from loket.calendar import CalendarRangeError, CalendarSnapshot, WorkCalendar, WorkDuration
from loket.case.messages import ApplicationView, ExtendRequest, RecomputeRequest
from loket.services.context import Services, utcnow
from loket.services.errors import Invalid, application_not_found
from loket.services.tasks import task_and_application
from loket.services.workflow import update_workflow
from loket.store import monitoring, queries
from loket.store.users import User
from loket.text import Line, Text


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extra: Line = Field(
        max_length=16, description="working time to add, e.g. '2d' or '4h'", examples=["2d"]
    )
    reason: Text = Field(min_length=3, max_length=4000)


class RecomputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3, max_length=4000)


_CALENDARS: dict[str, WorkCalendar] = {}


def work_calendar(snapshot: CalendarSnapshot) -> WorkCalendar:
    """The arithmetic of a calendar version, built once per version."""
    cached = _CALENDARS.get(snapshot.version)
    if cached is None:
        cached = _CALENDARS[snapshot.version] = WorkCalendar(snapshot)
    return cached


def checked_extension(services: Services, extra: str, due: datetime | None) -> WorkDuration:
    """The extension, if it parses and its deadline stays inside the calendar's years
    (a deadline past the last known year cannot be computed: refused here, before any
    Update)."""
    try:
        duration = WorkDuration.parse(extra)
    except ValueError:
        raise Invalid(
            "invalid_duration",
            errors=[{"field": "extra", "code": "invalid_duration", "message": "e.g. 2d or 4h"}],
            extra=extra,
        ) from None
    try:
        work_calendar(services.calendar).add(due or utcnow(), duration)
    except CalendarRangeError:
        raise Invalid(
            "outside_calendar",
            errors=[{"field": "extra", "code": "outside_calendar", "message": "too far"}],
            extra=extra,
        ) from None
    return duration


async def extend_deadline(
    services: Services,
    user: User,
    registration_number: str,
    step_id: str,
    body: ExtendIn,
    *,
    key: str,
) -> ApplicationView:
    """A supervisor extends a step of their own agency; another agency's is the same
    ``NotFound`` as a missing task, so nothing about it leaks."""
    task, _ = await task_and_application(
        services,
        user,
        registration_number,
        step_id,
        action="extend",
        works=True,
    )
    checked_extension(services, body.extra, task.due_at)
    request = ExtendRequest(
        step_id=step_id, extra=body.extra, reason=body.reason, actor=user.actor()
    )
    return await update_workflow(
        services,
        registration_number,
        "extend_deadline",
        request,
        operation="extend",
        key=key,
        user=user,
        step_id=step_id,
    )


async def recompute_deadlines(
    services: Services, user: User, registration_number: str, body: RecomputeIn, *, key: str
) -> ApplicationView:
    async with services.acquire() as conn:
        if await queries.application(conn, registration_number) is None:
            raise application_not_found(registration_number)
        await monitoring.remember_calendar(conn, services.calendar)
    request = RecomputeRequest(calendar=services.calendar, reason=body.reason, actor=user.actor())
    return await update_workflow(
        services,
        registration_number,
        "recompute_deadlines",
        request,
        operation="recompute",
        key=key,
        user=user,
    )
