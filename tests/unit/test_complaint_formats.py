"""The form formats of the complaint route (loket/route/formats.py): what is accepted is a
LAPOR! ticket number or an https address on lapor.go.id, and a registration number of the
published pattern; anything else is refused with ValueError (the form names the field)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.route.formats import REGISTRATION_NUMBER, lapor_ticket, registration_number

TICKET_OR_LAPOR_URL = re.compile(r"^(\d{5,12}|https://(www\.)?lapor\.go\.id(/\S*)?)$")


@given(st.text(max_size=80))
def test_any_text_is_a_ticket_a_lapor_address_or_refused(text: str) -> None:
    try:
        value = lapor_ticket(text)
    except ValueError:
        return
    assert TICKET_OR_LAPOR_URL.match(value), value
    if value.startswith("https://"):
        assert urlsplit(value).hostname in ("lapor.go.id", "www.lapor.go.id")
    assert lapor_ticket(value) == value  # stored values check again unchanged


@given(st.from_regex(r"#?[0-9]{5,12}", fullmatch=True))
def test_ticket_numbers_lose_their_hash(text: str) -> None:
    assert lapor_ticket(text) == text.removeprefix("#")


@pytest.mark.parametrize(
    "text",
    [
        "http://www.lapor.go.id/laporan/1",  # not https
        "https://lapor.go.id.evil.example/1",
        "https://evil.example/?u=https://www.lapor.go.id/",
        "https://user@www.lapor.go.id/1",
        "https://www.lapor.go.id:8443/1",
        "https://www.lapor.go.id/ spasi",
        "1234",  # too short for a ticket
        "",
    ],
)
def test_look_alikes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        lapor_ticket(text)


def test_a_lapor_address_is_kept() -> None:
    url = "https://www.lapor.go.id/laporan/detil/pelayanan-perizinan-12345"
    assert lapor_ticket(url) == url


@given(st.text(max_size=30))
def test_registration_numbers_match_the_published_pattern(text: str) -> None:
    try:
        value = registration_number(text)
    except ValueError:
        return
    assert REGISTRATION_NUMBER.match(value) and value == value.upper()
