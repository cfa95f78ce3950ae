"""Starting applications: registration numbers, access codes, the pinned workflow input.

Used by the submit use case (``loket.services.public``) and the tests, so that an
application is always started the same way. Submission is idempotent: one idempotency key
is one registration number, one access code and one workflow. A retried start attaches to
the workflow already started (its ID is the registration number); nothing is ever deleted
to compensate a failed start, so a start that timed out after the server took it loses
nothing and the retry finds it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from loket import search_attributes as sa
from loket.calendar import CalendarSnapshot, calendar_for
from loket.case.messages import Actor, ApplicationView, PermitInput
from loket.contact import ContactIn
from loket.route.form import normalize
from loket.route.model import PermitType
from loket.route.standard import service_duration
from loket.services.errors import Conflict
from loket.store.contacts import record_contact
from loket.store.monitoring import remember_calendar
from loket.store.routes import remember_route
from loket.store.submissions import register

# No 0/O or 1/I/L: codes are read aloud at counters and typed from paper receipts.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ACCESS_CODE_LENGTH = 10


def new_access_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def derived_access_code(secret: bytes, idempotency_key: str) -> str:
    """The access code of a keyed submission: the same for every retry of the key, and
    unguessable without the server's secret."""
    digest = hmac.new(secret, f"access-code:{idempotency_key}".encode(), hashlib.sha256).digest()
    return "".join(_CODE_ALPHABET[b % len(_CODE_ALPHABET)] for b in digest[:ACCESS_CODE_LENGTH])


def hash_access_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def access_code_matches(code: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and secrets.compare_digest(hash_access_code(code), stored_hash)


@dataclass(frozen=True)
class Submitted:
    registration_number: str
    access_code: str
    handle: WorkflowHandle[Any, ApplicationView]
    created: bool = True  # False: a retry of a key already registered


async def submit_application(
    *,
    client: Client,
    pool: asyncpg.Pool,
    permit: PermitType,
    calendar: CalendarSnapshot,
    form: dict[str, Any],
    task_queue: str,
    now: datetime,
    search_attributes: bool = True,
    escalation_spread_s: int = 0,
    idempotency_key: str | None = None,
    access_code_secret: bytes | None = None,
    contact: ContactIn | None = None,
) -> Submitted:
    """Validate ``form`` (raises ``FormError``), register it and start its workflow.

    With ``idempotency_key`` (and the server's ``access_code_secret``) a retry returns the
    first registration, the same access code and the same workflow.
    """
    data = normalize(permit, form)
    # The service deadline must be computable now, or the workflow could not start.
    calendar_for(calendar).add(now, service_duration(permit, data)[0])
    if idempotency_key is not None and access_code_secret is not None:
        code = derived_access_code(access_code_secret, idempotency_key)
    else:
        code = new_access_code()
    key = idempotency_key or f"once:{uuid.uuid4()}"
    async with pool.acquire() as conn:
        await remember_calendar(conn, calendar)
        await remember_route(conn, permit.id, permit.version, permit.model_dump(mode="json"))
        async with conn.transaction():  # the contact is written with the submission or not at all
            registration = await register(conn, key, permit.id, now.year, hash_access_code(code))
            if registration.created:
                await record_contact(conn, registration.registration_number, contact, now)
    reg = registration.registration_number
    if not access_code_matches(code, registration.access_code_hash):
        # This key's submission exists, but its access code is not the one derived from the
        # key: it was recovered (reset) since, or the key was sent without the server's
        # secret. The code is never answered twice: the applicant uses the new one.
        raise Conflict("submission_code_changed", registration_number=reg)
    workflow_input = PermitInput(
        registration_number=reg,
        permit=permit,
        calendar=calendar,
        data=data,
        applicant=Actor(username=f"applicant:{reg}", role="applicant"),
        search_attributes=search_attributes,
        escalation_spread_s=escalation_spread_s,
    )
    try:
        handle: WorkflowHandle[Any, ApplicationView] = await client.start_workflow(
            permit.id,
            workflow_input,
            id=reg,
            task_queue=task_queue,
            result_type=ApplicationView,
            # A retried start attaches to the running workflow; a finished one stays finished.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            # What the Temporal UI shows an operator; never personal data (not encrypted).
            memo={"permit": permit.name, "permit_type": permit.id, "route_version": permit.version},
            static_summary=f"{permit.id} v{permit.version}: {permit.name}"[:200],
            static_details=(
                f"**{permit.name}** ({permit.key})\n\n"
                f"- calendar: {calendar.version}\n- service time rule: "
                f"{service_duration(permit, data)[1]}"
            ),
            search_attributes=(
                TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.PERMIT_TYPE, permit.id),
                        SearchAttributePair(sa.ROUTE_VERSION, permit.version),
                        SearchAttributePair(sa.STATUS, "in_progress"),
                    ]
                )
                if search_attributes
                else None
            ),
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(reg, result_type=ApplicationView)
    return Submitted(reg, code, handle, registration.created)
