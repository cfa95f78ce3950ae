"""The contact rules: Indonesian mobile numbers to E.164, a careful e-mail check, consent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from loket.contact import (
    CONSENT_VERSION,
    EMAIL_MAX,
    PHONE_MAX,
    ContactIn,
    normalize_email,
    normalize_phone,
)

subscriber = st.text("0123456789", min_size=7, max_size=10)
second = st.sampled_from("123456789")
separator = st.sampled_from(["", " ", "-", "."])


@given(second, subscriber, st.sampled_from(["0", "62", "+62", "+62 "]), separator)
def test_every_way_of_writing_a_mobile_number_gives_one_e164_form(
    d: str, rest: str, prefix: str, sep: str
) -> None:
    written = f"{prefix}8{d}{sep}{rest[:3]}{sep}{rest[3:]}"
    normalized = normalize_phone(written)
    assert normalized == f"+628{d}{rest}"
    assert len(normalized) <= PHONE_MAX
    assert normalize_phone(normalized) == normalized


@given(st.text(max_size=30))
def test_a_phone_number_accepted_always_fits_the_column(raw: str) -> None:
    try:
        value = normalize_phone(raw)
    except ValueError:
        return
    assert value.startswith("+628") and value[1:].isdigit() and len(value) <= PHONE_MAX


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0812",
        "+1 202 555 0100",
        "0212345678",
        "08123456789012345",
        "0812-3456-789O",
        "\x000812345678",
    ],
)
def test_what_is_not_an_indonesian_mobile_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("andi@Example.CO.ID", "andi@example.co.id"),
        (" a.b+permit@dpmptsp.blorakab.go.id ", "a.b+permit@dpmptsp.blorakab.go.id"),
        ("x@xn--80ak6aa92e.com", "x@xn--80ak6aa92e.com"),
    ],
)
def test_good_addresses_are_kept(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "andi",
        "andi@",
        "@example.com",
        "a@@example.com",
        "a@localhost",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example.c0m",
        "a b@example.com",
        "a@exa mple.com",
        "a\x00@example.com",
        "a\n@example.com",
        ("x" * 65) + "@example.com",
        "a@" + ("x" * 250) + ".com",
    ],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_email(raw)


@given(st.text(max_size=300))
def test_an_address_accepted_always_fits_the_column(raw: str) -> None:
    try:
        value = normalize_email(raw)
    except ValueError:
        return
    assert len(value) <= EMAIL_MAX and value.isascii() and value.isprintable()


def _fields(exc: ValidationError) -> list[str]:
    return [".".join(map(str, e["loc"])) for e in exc.errors()]


def test_no_contact_without_consent() -> None:
    with pytest.raises(ValidationError) as exc:
        ContactIn(phone="081234567890")
    assert _fields(exc.value) == ["consent"]
    contact = ContactIn(phone="081234567890", consent=True)
    assert contact.given and contact.phone == "+6281234567890"
    assert contact.consent_version == CONSENT_VERSION


def test_a_stale_purpose_text_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        ContactIn(email="a@example.com", consent=True, consent_version="notify-consent-v0")
    assert _fields(exc.value) == ["consent_version"]


def test_bad_formats_name_their_field() -> None:
    with pytest.raises(ValidationError) as exc:
        ContactIn(phone="12", email="nope", consent=True)
    assert sorted(_fields(exc.value)) == ["email", "phone"]


def test_consent_alone_stores_nothing() -> None:
    assert not ContactIn(consent=True).given
    assert not ContactIn(phone=" ", email="", consent=False).given
