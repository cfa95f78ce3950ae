"""The payment callback of a bank or QRIS aggregator (issue 11, docs/payments.md).

``POST /api/payments/callback/{bank}`` with a JSON body and two headers:
``X-Loket-Timestamp`` (Unix seconds) and ``X-Loket-Signature``, the lowercase hex
HMAC-SHA256 of ``timestamp + "." + body`` under the bank's secret. The timestamp must lie
within ``payment_callback_window_s`` of Loket's clock, so a captured callback cannot be
played again later.

The bank's transaction ID is the idempotency key: a payment already recorded for it is
answered again as it was (``replayed``), and the workflow Update's ID is made from it, so
two deliveries of one transaction record one payment. Every callback, whatever its
outcome, is logged in ``payment_attempts`` for reconciliation; a refused one changes
nothing else. The rules of the bill (open, exact amount, before its pay-by date, paid
once) are the case core's (``loket.case.billing.check_payment``), checked in the workflow.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from loket.case.bill import BILLING_CODE_PATTERN, is_valid_code
from loket.case.billing import PaymentRequest, bank_actor
from loket.fees import MAX_AMOUNT
from loket.refusal import RefusalCode, Refused
from loket.services.context import Services, client_ip
from loket.services.errors import Conflict, Invalid, NotFound, ServiceError, Unauthenticated
from loket.services.fields import field_code
from loket.services.workflow import update_workflow
from loket.store import billing as store

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Loket-Signature"
TIMESTAMP_HEADER = "X-Loket-Timestamp"
TRANSACTION_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
_TIMESTAMP_DIGITS = 12  # Unix seconds for the next 30,000 years; longer is not a timestamp
PAID_AFTER = datetime(2000, 1, 1, tzinfo=UTC)
PAID_SKEW = timedelta(days=1)  # a bank's clock a little ahead of ours


class PaymentCallback(BaseModel):
    """What the bank sends: its transaction, the bill's code, the amount paid, when."""

    model_config = ConfigDict(extra="forbid")

    transaction_id: str = Field(pattern=TRANSACTION_PATTERN, description="the bank's own ID")
    billing_code: str = Field(pattern=BILLING_CODE_PATTERN)
    amount: int = Field(ge=1, le=MAX_AMOUNT, description="rupiah paid")
    paid_at: AwareDatetime

    @field_validator("paid_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        # Stored as timestamptz: an instant near year 1 or 9999 would be refused there.
        if not PAID_AFTER <= value <= datetime.now(UTC) + PAID_SKEW:
            raise ValueError("paid_at must lie between 2000 and now")
        return value


class PaymentOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str = Field(default="recorded")
    replayed: bool = Field(description="true: this transaction was recorded before")
    registration_number: str
    billing_code: str
    amount: int
    transaction_id: str
    receipt_number: str
    paid_at: datetime


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature a bank sends (and the tests compute)."""
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


class _Attempt:
    """One callback's entry in the attempts log, filled in as it is understood."""

    def __init__(self, services: Services, bank: str, body: bytes) -> None:
        self.services = services
        self.fields: dict[str, Any] = {
            "bank": bank,
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "client_ip": client_ip.get(),
        }

    async def log(self, outcome: str) -> None:
        async with self.services.acquire() as conn:
            await store.log_attempt(conn, outcome=outcome, **self.fields)
        level = logging.INFO if outcome in ("accepted", "replayed") else logging.WARNING
        log.log(
            level,
            "payment callback from %s: %s",
            self.fields["bank"],
            outcome,
            extra={"bank": self.fields["bank"], "outcome": outcome},
        )

    async def refuse(self, error: Exception) -> Exception:
        """Log the outcome (the error's code) and hand the error back to be raised."""
        code = error.code.value if isinstance(error, Refused) else getattr(error, "code", "")
        await self.log(str(code or type(error).__name__)[:64])
        return error


def _authenticate(
    services: Services, bank: str, timestamp: str | None, signature: str | None, body: bytes
) -> ServiceError | None:
    secret = services.settings.payment_banks.get(bank)
    if secret is None:
        return NotFound("payment_bank_unknown", bank=bank)
    if not timestamp or not signature or len(timestamp) > _TIMESTAMP_DIGITS:
        return Unauthenticated("payment_signature_invalid")
    if not timestamp.isascii() or not timestamp.isdigit():
        return Unauthenticated("payment_signature_invalid")
    expected = sign(secret.get_secret_value().encode(), timestamp, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return Unauthenticated("payment_signature_invalid")
    window = services.settings.payment_callback_window_s
    if abs(time.time() - int(timestamp)) > window:
        return Unauthenticated("payment_timestamp_stale", window_s=window)
    return None


def _parse(body: bytes) -> PaymentCallback:
    try:
        return PaymentCallback.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())) or "body",
                "code": field_code(e),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        raise Invalid(
            "invalid_request", errors=errors, fields=sorted({e["field"] for e in errors})
        ) from None


def _out(payment: store.PaymentRow, replayed: bool) -> PaymentOut:
    return PaymentOut(
        replayed=replayed,
        registration_number=payment.registration_number,
        billing_code=payment.billing_code,
        amount=payment.amount,
        transaction_id=payment.transaction_id or "",
        receipt_number=payment.receipt_number,
        paid_at=payment.paid_at,
    )


async def receive_callback(
    services: Services, bank: str, timestamp: str | None, signature: str | None, body: bytes
) -> PaymentOut:
    """Authenticate, then record the payment through the application's workflow."""
    attempt = _Attempt(services, bank, body)
    denied = _authenticate(services, bank, timestamp, signature, body)
    if denied is not None:
        raise await attempt.refuse(denied)
    try:
        callback = _parse(body)
    except Invalid as exc:
        raise await attempt.refuse(exc) from None
    attempt.fields |= {
        "transaction_id": callback.transaction_id,
        "billing_code": callback.billing_code,
        "amount": callback.amount,
    }
    async with services.acquire() as conn:
        recorded = await store.payment_of_transaction(conn, bank, callback.transaction_id)
        bill = await store.bill(conn, callback.billing_code) if recorded is None else None
    if recorded is not None:
        attempt.fields["registration_number"] = recorded.registration_number
        if (recorded.billing_code, recorded.amount) != (callback.billing_code, callback.amount):
            raise await attempt.refuse(
                Conflict("payment_transaction_reused", transaction_id=callback.transaction_id)
            )
        await attempt.log("replayed")
        return _out(recorded, replayed=True)
    if bill is None or not is_valid_code(callback.billing_code):
        raise await attempt.refuse(
            Refused(RefusalCode.BILL_UNKNOWN, billing_code=callback.billing_code)
        )
    attempt.fields["registration_number"] = bill.registration_number
    # What the read model already knows for good answers without asking the workflow (a
    # paid case may have finished since); every other rule is the case core's.
    if bill.status == "paid":
        raise await attempt.refuse(
            Refused(RefusalCode.BILL_ALREADY_PAID, billing_code=bill.billing_code)
        )
    if bill.status == "cancelled":
        raise await attempt.refuse(
            Refused(RefusalCode.BILL_NOT_OPEN, billing_code=bill.billing_code, status=bill.status)
        )
    request = PaymentRequest(
        bank=bank,
        transaction_id=callback.transaction_id,
        billing_code=callback.billing_code,
        amount=callback.amount,
        paid_at=callback.paid_at,
        actor=bank_actor(bank),
    )
    try:
        await update_workflow(
            services,
            bill.registration_number,
            "record_payment",
            request,
            operation="record_payment",
            key=f"{bank}:{callback.transaction_id}",
        )
    except Exception as exc:  # refused, pending or a fault: logged, then answered
        raise await attempt.refuse(exc) from None
    await attempt.log("accepted")
    log.info(
        "payment of %s recorded (bill %s, %s)",
        bill.registration_number,
        bill.billing_code,
        bank,
        extra={"registration_number": bill.registration_number},
    )
    # The receipt of a bank payment is its transaction (loket.case.billing.record_payment).
    return PaymentOut(
        replayed=False,
        registration_number=bill.registration_number,
        billing_code=bill.billing_code,
        amount=callback.amount,
        transaction_id=callback.transaction_id,
        receipt_number=callback.transaction_id,
        paid_at=callback.paid_at,
    )
