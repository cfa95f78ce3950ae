"""Payment callbacks of banks and QRIS aggregators (issue 11, docs/payments.md).

No user signs in here: the bank signs each callback (HMAC-SHA256 over the timestamp and
the raw body), so the route reads the body as bytes and hands it to the service untouched.
The bank's transaction ID plays the Idempotency-Key's part.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request

from loket.api.deps import ServicesDep
from loket.api.errors import CHANGE_RESPONSES, ERROR_RESPONSES, _response
from loket.services import payments
from loket.services.payments import SIGNATURE_HEADER, TIMESTAMP_HEADER, PaymentCallback, PaymentOut
from loket.settings import BANK_PATTERN

router = APIRouter(
    prefix="/api/payments",
    tags=["payments"],
    responses={
        **ERROR_RESPONSES,
        **CHANGE_RESPONSES,
        401: _response(
            "signature missing or wrong, or a stale timestamp (payment_signature_"
            "invalid, payment_timestamp_stale)"
        ),
    },
)

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": PaymentCallback.model_json_schema()}},
    }
}


@router.post(
    "/callback/{bank}",
    summary="A bank's or QRIS aggregator's confirmed payment of a bill (signed)",
    openapi_extra=_BODY,
)
async def post_callback(
    services: ServicesDep,
    request: Request,
    bank: Annotated[str, Path(pattern=BANK_PATTERN, description="the payment channel's name")],
    timestamp: Annotated[
        str | None, Header(alias=TIMESTAMP_HEADER, description="Unix seconds, signed")
    ] = None,
    signature: Annotated[
        str | None,
        Header(alias=SIGNATURE_HEADER, description="hex HMAC-SHA256 of timestamp + '.' + body"),
    ] = None,
) -> PaymentOut:
    body = await request.body()
    return await payments.receive_callback(services, bank, timestamp, signature, body)
