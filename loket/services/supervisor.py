"""Supervisors: their agency's open tasks by staff member, and reassigning them.

Reassigning is a Workflow Update (``reassign``): the workflow checks again that the
supervisor heads the step's agency and that the new holder serves its counter, and audits
the change as ``task_reassigned``. A task at another agency is ``NotFound``, as for staff.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from loket.case.messages import ApplicationView, ReassignRequest
from loket.services.context import Services
from loket.services.errors import Invalid
from loket.services.tasks import task_and_application, user_inbox
from loket.services.workflow import update_workflow
from loket.store import queries, users
from loket.store.users import USERNAME_PATTERN, User
from loket.text import Line, Text

log = logging.getLogger(__name__)

UNASSIGNED = ""  # the group key of tasks nobody has claimed


class Member(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    full_name: str
    role: str
    counters: list[str]


class StaffGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str = Field(description="the holder; '' for tasks nobody has claimed yet")
    full_name: str
    tasks: list[queries.InboxRow]


class Workload(BaseModel):
    model_config = ConfigDict(frozen=True)

    agency: str
    members: list[Member] = Field(description="who tasks can be given to")
    groups: list[StaffGroup] = Field(description="unclaimed first, then by username")


class ReassignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Line | None = Field(
        default=None,
        max_length=63,
        pattern=USERNAME_PATTERN,
        description="username; null gives it back to the counter",
    )
    reason: Text = Field(default="", max_length=4000)


async def agency_members(services: Services, agency: str) -> list[User]:
    """Active staff and supervisors of ``agency``: the people a task may go to."""
    async with services.acquire() as conn:
        everyone = await users.list_users(conn)
    return [
        u for u in everyone if u.active and u.agency == agency and u.role in ("staff", "supervisor")
    ]


async def workload(services: Services, user: User) -> Workload:
    """The supervisor's agency: open tasks grouped by who holds them, soonest due first."""
    agency = user.agency or ""
    rows = await user_inbox(services, user)
    members = await agency_members(services, agency)
    names = {m.username: m.full_name for m in members}
    grouped: dict[str, list[queries.InboxRow]] = {UNASSIGNED: []}
    for row in rows:
        grouped.setdefault(row.claimed_by or UNASSIGNED, []).append(row)
    order = [UNASSIGNED, *sorted(k for k in grouped if k != UNASSIGNED)]
    return Workload(
        agency=agency,
        members=[
            Member(
                username=m.username, full_name=m.full_name, role=m.role, counters=list(m.counters)
            )
            for m in members
        ],
        groups=[StaffGroup(username=k, full_name=names.get(k, k), tasks=grouped[k]) for k in order],
    )


async def reassign_task(
    services: Services,
    user: User,
    registration_number: str,
    step_id: str,
    to: str | None,
    reason: str = "",
    *,
    key: str,
) -> ApplicationView:
    """Give a task to ``to`` (a username of the agency), or back to the counter (None).

    A task of another agency is the same ``NotFound`` as a missing one."""
    await task_and_application(
        services, user, registration_number, step_id, action="reassign", works=True
    )
    target = None
    if to:
        async with services.acquire() as conn:
            target = await users.get_user(conn, to)
        if target is None or not target.active:
            raise Invalid(
                "user_not_found",
                errors=[{"field": "to", "code": "user_not_found", "message": "no active user"}],
                username=to,
            )
    view = await update_workflow(
        services,
        registration_number,
        "reassign",
        ReassignRequest(
            step_id=step_id,
            to=target.actor() if target else None,
            reason=reason,
            actor=user.actor(),
        ),
        operation="reassign",
        key=key,
        user=user,
        step_id=step_id,
    )
    log.info("%s reassigned %s/%s to %s", user.username, registration_number, step_id, to)
    return view
