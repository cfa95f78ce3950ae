"""Bills (SKRD) and their billing codes: pure values the case core carries in its state.

A billing code is the number an applicant pays with at the bank or by QRIS. It is derived
from the registration number and the bill's index, so replaying a workflow computes the
same code, and it ends in two ISO 7064 MOD 97-10 check digits (the IBAN scheme), so a
mistyped digit or two swapped neighbours never reach another applicant's bill.

Layout (digits only): the permit type, each character as two digits (``0``-``9`` as
``00``-``09``, ``A``-``Z`` as ``10``-``35``), then the year (4), the registration sequence
(6), the bill's index (2) and the check digits (2). The length tells how many characters
the permit type has, so two registrations never share a code. ``PBG-2026-000123``'s first
bill is ``25 11 16 2026 000123 01 cc``: 20 digits.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BILLS = 99  # two digits of index per registration
_REGISTRATION = re.compile(r"^([A-Z][A-Z0-9]{1,11})-([0-9]{4})-([0-9]{6})$")
# The shortest code: a 2-character permit type (4 digits) + 4 + 6 + 2 + 2 check digits.
MIN_CODE_DIGITS = 18
MAX_CODE_DIGITS = 38  # a 12-character permit type
BILLING_CODE_PATTERN = rf"^[0-9]{{{MIN_CODE_DIGITS},{MAX_CODE_DIGITS}}}$"

BillStatus = Literal["open", "paid", "cancelled"]
Channel = Literal["bank", "teller"]


def _char_digits(char: str) -> str:
    return f"{int(char, 36):02d}"


def check_digits(payload: str) -> str:
    """ISO 7064 MOD 97-10 check digits of a string of digits."""
    if not payload.isdigit() or not payload.isascii():
        raise ValueError("the payload of a billing code is digits only")
    return f"{98 - int(payload + '00') % 97:02d}"


def is_valid_code(code: str) -> bool:
    """Digits only, of a possible length, whose MOD 97-10 remainder is 1."""
    return (
        code.isascii()
        and code.isdigit()
        and MIN_CODE_DIGITS <= len(code) <= MAX_CODE_DIGITS
        and len(code) % 2 == 0
        and int(code) % 97 == 1
    )


def billing_code(registration_number: str, index: int) -> str:
    """The code of bill number ``index`` (1-based) of ``registration_number``."""
    found = _REGISTRATION.match(registration_number)
    if found is None:
        raise ValueError(f"not a registration number: {registration_number!r}")
    if not 1 <= index <= MAX_BILLS:
        raise ValueError(f"bill index {index} is outside 1..{MAX_BILLS}")
    permit_type, year, seq = found.groups()
    payload = "".join(_char_digits(c) for c in permit_type) + year + seq + f"{index:02d}"
    return payload + check_digits(payload)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BillPayment(_Frozen):
    """How a bill was paid: by the bank's callback or confirmed by hand at the teller."""

    channel: Channel
    amount: int
    receipt_number: str  # SSRD: the bank's transaction ID, or the teller's receipt
    paid_at: datetime
    recorded_at: datetime
    recorded_by: str
    bank: str | None = None
    transaction_id: str | None = None


class Bill(_Frozen):
    """One SKRD: issued when the payment step opens, paid or cancelled once."""

    billing_code: str
    index: int = Field(ge=1, le=MAX_BILLS)
    step_id: str
    attempt: int
    amount: int
    currency: Literal["IDR"] = "IDR"
    billed_at: datetime
    pay_by: datetime
    status: BillStatus = "open"
    closed_at: datetime | None = None
    payment: BillPayment | None = None
