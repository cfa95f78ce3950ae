"""An applicant's contact for notifications: formats, sizes and the consent rule.

UU 27/2022 (personal data): the form states the purpose, the applicant consents explicitly,
and the consent is kept with its time and the purpose text's version. No contact without
consent. Pure rules, used by the API body, the web form and (as sizes) the store's columns.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# The purpose text shown next to the consent box; a new wording gets a new version.
CONSENT_VERSION = "notify-consent-v1"
CONSENT_PURPOSE = {
    "id": (
        "Nomor telepon dan/atau alamat e-mail ini hanya dipakai untuk memberi tahu Anda tentang"
        " permohonan ini (diterima, dikembalikan untuk perbaikan, tagihan, pembayaran, keputusan,"
        " izin siap) dan untuk mengirim kode akses baru bila Anda memintanya."
    ),
    "en": (
        "This phone number and/or e-mail address is used only to tell you about this application"
        " (received, returned for corrections, billed, paid, decided, permit ready) and to send"
        " you a new access code when you ask for one."
    ),
}
KNOWN_CONSENT_VERSIONS = frozenset({CONSENT_VERSION})

PHONE_MAX = 16  # '+' and at most 15 digits (E.164); the column is varchar(16)
EMAIL_MAX = 254  # RFC 5321 path limit; the column is varchar(254)
_LOCAL_MAX = 64

# Indonesian mobile numbers (WhatsApp/SMS reach mobiles only): +62 8xx, 9 to 12 digits
# after the country code.
_PHONE = re.compile(r"\+628[1-9][0-9]{7,10}")
_SEPARATORS = re.compile(r"[\s\-.()]")
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})")


def normalize_phone(raw: str) -> str:
    """``raw`` as E.164 (+62...); ValueError naming what is wrong. Accepts 0812..., 62812...,
    +62 812-..., with spaces, dashes, dots or parentheses between digits."""
    value = _SEPARATORS.sub("", raw.strip())
    if len(value) > 20:
        raise ValueError("too long for a phone number")
    if value.startswith("0"):
        value = "+62" + value[1:]
    elif value.startswith("62"):
        value = "+" + value
    if not _PHONE.fullmatch(value):
        raise ValueError("not an Indonesian mobile number (e.g. 0812 3456 7890 or +62 812...)")
    return value


def normalize_email(raw: str) -> str:
    """``raw`` as a deliverable-looking address (domain lowercased); ValueError otherwise.

    A careful syntax check (email-validator is not among the pinned packages): ASCII
    dot-atom local part, host name of two labels or more, alphabetic or IDNA top level."""
    value = raw.strip()
    if len(value) > EMAIL_MAX:
        raise ValueError(f"longer than {EMAIL_MAX} characters")
    if value.count("@") != 1:
        raise ValueError("an e-mail address has exactly one @")
    local, domain = value.split("@")
    if not local or len(local) > _LOCAL_MAX or not _LOCAL.fullmatch(local):
        raise ValueError("the part before @ is not a valid mailbox name")
    labels = domain.split(".")
    if (
        len(labels) < 2
        or len(domain) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not _TLD.fullmatch(labels[-1])
    ):
        raise ValueError("the part after @ is not a valid domain")
    return f"{local}@{domain.lower()}"


class ContactIn(BaseModel):
    """The contact part of a submission. Both channels optional; either needs consent."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=40, description="Indonesian mobile")
    email: str | None = Field(default=None, max_length=EMAIL_MAX)
    language: Literal["id", "en"] = "id"
    # validate_default: an absent consent must still be checked against the contact given.
    consent: bool = Field(
        default=False, validate_default=True, description="consents to the purpose text shown"
    )
    consent_version: str = Field(
        default=CONSENT_VERSION, max_length=64, description="version of the purpose text shown"
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(value) if value and value.strip() else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalize_email(value) if value and value.strip() else None

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: bool, info: ValidationInfo) -> bool:
        if not value and (info.data.get("phone") or info.data.get("email")):
            raise ValueError("consent is required to be contacted at this phone or e-mail")
        return value

    @field_validator("consent_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in KNOWN_CONSENT_VERSIONS:
            raise ValueError("the purpose text changed: read it again and consent")
        return value

    @property
    def given(self) -> bool:
        """Something to store: a consented phone or e-mail."""
        return self.consent and bool(self.phone or self.email)


CHANNELS: tuple[Literal["email", "phone"], ...] = ("email", "phone")
Channel = Literal["email", "phone"]
