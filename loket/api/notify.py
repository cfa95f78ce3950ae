"""Applicant notifications on the API: access-code recovery (public) and, for staff, how
each notice of a file was delivered (``loket.services.contacts``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict

from loket.api.deps import AuditReader, IdempotencyKey, ServicesDep
from loket.api.errors import ERROR_RESPONSES
from loket.edge.params import RegistrationNumber
from loket.services import contacts
from loket.services.contacts import RecoveryAnswer

router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)


class DeliveryOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    kind: str
    created_at: datetime
    channel: str
    state: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    updated_at: datetime


@router.post(
    "/api/public/applications/{registration_number}/access-code/recover",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new access code to the contact recorded with the application",
    description=(
        "Always answers 202 with the same body: whether the number exists or has a contact"
        " is not revealed. Rate-limited per client and per number (429). The old code stops"
        " working once the new one was sent."
    ),
)
async def post_recover_access_code(
    services: ServicesDep, registration_number: RegistrationNumber, idempotency_key: IdempotencyKey
) -> RecoveryAnswer:
    return await contacts.recover_access_code(
        services, registration_number, idempotency_key=idempotency_key
    )


@router.get(
    "/api/staff/applications/{registration_number}/notifications",
    summary="Each applicant notice of the file and how each channel delivered it",
)
async def get_notifications(
    services: ServicesDep, user: AuditReader, registration_number: RegistrationNumber
) -> list[DeliveryOut]:
    rows = await contacts.deliveries(services, registration_number)
    return [
        DeliveryOut(
            key=r.key,
            kind=r.kind,
            created_at=r.created_at,
            channel=r.channel,
            state=r.state,
            attempts=r.attempts,
            last_error=r.last_error,
            sent_at=r.sent_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
